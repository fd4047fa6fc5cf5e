"""Fixed-window rate limits in Redis, shared by login, assisted lookup and check-in caps.

Each limit is a number of events per window; one pipelined INCR per window
counts and checks all windows of a subject in a single round trip. Counters
live in Redis, so every replica sees the same count. A subject's counters share
its hash tag (``rl:<name>:{<subject>}:<seconds>:<start>``): the MGET of ``check``
and the DEL of ``reset`` stay in one cluster slot.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.cache import RedisClient, tagged
from shared.errors import RateLimited


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: int


class RateLimiter:
    def __init__(self, redis: RedisClient, prefix: str, name: str, windows: Sequence[Window]) -> None:
        self._redis = redis
        self._base = f"{prefix}rl:{name}:"
        self._windows = tuple(windows)

    def key(self, subject: str, window: Window, moment: float) -> str:
        """The counter of ``subject`` in the window of ``window`` that holds ``moment``."""
        start = int(moment // window.seconds) * window.seconds
        return f"{self._base}{tagged(subject)}:{window.seconds}:{start}"

    def pipeline_hits(self, pipe: Any, subjects: Sequence[str], cost: int, moment: float) -> int:
        """Queue on a caller's pipeline one script per subject that counts ``cost`` in each of its
        windows (INCRBY, and EXPIRE when the window starts): one command, and one slot (the
        subject's tag). The number of results they add, for ``refused``."""
        ttls = [w.seconds + 1 for w in self._windows]
        for subject in subjects:
            keys = [self.key(subject, w, moment) for w in self._windows]
            _ = pipe.eval(_COUNT, len(keys), *keys, cost, *ttls)
        return len(subjects)

    def refused(self, subjects: Sequence[str], results: Sequence[Any], moment: float) -> RateLimited | None:
        """The first full window among the results of ``pipeline_hits``, or None."""
        for counts in results[: len(subjects)]:
            for window, count in zip(self._windows, counts, strict=True):
                if int(count) > window.limit:
                    return self._limited(window, moment)
        return None

    @staticmethod
    def _limited(window: Window, moment: float) -> RateLimited:
        start = int(moment // window.seconds) * window.seconds
        return RateLimited(
            int(start + window.seconds - moment) + 1,
            f"Too many attempts: at most {window.limit} in {window.seconds} s.",
        )

    async def hit(self, subject: str, cost: int = 1, now: float | None = None) -> None:
        """Count ``cost`` events for ``subject``; raise ``RateLimited`` if any window is full.

        The events count even when refused, so hammering does not reopen the window early.
        """
        await self.hit_many([subject], cost, now)

    async def hit_many(self, subjects: Sequence[str], cost: int = 1, now: float | None = None) -> None:
        """``hit`` for several subjects (a family checking in together) in one round trip; every
        subject is counted, then the first full window of any of them is raised."""
        moment = time.time() if now is None else now
        async with self._redis.pipeline(transaction=False) as pipe:
            self.pipeline_hits(pipe, subjects, cost, moment)
            results = await pipe.execute()
        refusal = self.refused(subjects, results, moment)
        if refusal is not None:
            raise refusal

    async def check(self, subject: str, now: float | None = None) -> None:
        """Raise ``RateLimited`` if any window of ``subject`` is already full, counting nothing.

        For limits on failures: check before the attempt, ``hit`` only when it failed, so a
        locked-out caller learns nothing from a right guess either.
        """
        moment = time.time() if now is None else now
        counts = await self._redis.mget([self.key(subject, w, moment) for w in self._windows])
        for window, count in zip(self._windows, counts, strict=True):
            if count is not None and int(count) >= window.limit:
                raise self._limited(window, moment)

    async def release(self, subject: str, cost: int = 1, now: float | None = None) -> None:
        """Give back ``cost`` that ``hit`` counted at ``now``, for an attempt that turned out not to count.

        For limits on failures under concurrency: ``hit`` before the attempt reserves a place
        atomically (so a burst cannot all pass a ``check`` before any failure is counted), and a
        success gives its place back. Pass the ``now`` the ``hit`` used, so the same windows are
        credited.
        """
        moment = time.time() if now is None else now
        async with self._redis.pipeline(transaction=False) as pipe:
            for window in self._windows:
                _ = pipe.decrby(self.key(subject, window, moment), cost)
            await pipe.execute()

    async def reset(self, subject: str, now: float | None = None) -> None:
        moment = time.time() if now is None else now
        await self._redis.delete(*[self.key(subject, w, moment) for w in self._windows])


# KEYS: one subject's window counters; ARGV: the cost, then each window's TTL. Every count.
# The TTL is set when the counter starts (it held nothing, or less than nothing after a
# ``release``), not on every hit: a window's key is named by its start, so one TTL is enough,
# and every check-in is two Redis commands fewer.
_COUNT = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCRBY', key, ARGV[1])
  if counts[i] <= tonumber(ARGV[1]) then redis.call('EXPIRE', key, ARGV[i + 1]) end
end
return counts
"""

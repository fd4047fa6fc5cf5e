"""Fixed-window rate limits in Redis, shared by login, assisted lookup and check-in caps.

Each limit is a number of events per window; one pipelined INCR per window
counts and checks all windows of a subject in a single round trip. Counters
live in Redis, so every replica sees the same count.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from shared.errors import RateLimited


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: int


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str, name: str, windows: Sequence[Window]) -> None:
        self._redis = redis
        self._base = f"{prefix}rl:{name}:"
        self._windows = tuple(windows)

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
            for subject in subjects:
                for window in self._windows:
                    start = int(moment // window.seconds) * window.seconds
                    key = f"{self._base}{window.seconds}:{subject}:{start}"
                    _ = pipe.incrby(key, cost)
                    _ = pipe.expire(key, window.seconds + 1)
            results = await pipe.execute()
        counts = iter(results[::2])
        for _subject in subjects:
            for window in self._windows:
                if int(next(counts)) > window.limit:
                    start = int(moment // window.seconds) * window.seconds
                    raise RateLimited(
                        int(start + window.seconds - moment) + 1,
                        f"Too many attempts: at most {window.limit} in {window.seconds} s.",
                    )

    async def check(self, subject: str, now: float | None = None) -> None:
        """Raise ``RateLimited`` if any window of ``subject`` is already full, counting nothing.

        For limits on failures: check before the attempt, ``hit`` only when it failed, so a
        locked-out caller learns nothing from a right guess either.
        """
        moment = time.time() if now is None else now
        starts = [int(moment // w.seconds) * w.seconds for w in self._windows]
        keys = [f"{self._base}{w.seconds}:{subject}:{s}" for w, s in zip(self._windows, starts, strict=True)]
        counts = await self._redis.mget(keys)
        for window, start, count in zip(self._windows, starts, counts, strict=True):
            if count is not None and int(count) >= window.limit:
                raise RateLimited(
                    int(start + window.seconds - moment) + 1,
                    f"Too many attempts: at most {window.limit} in {window.seconds} s.",
                )

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
                start = int(moment // window.seconds) * window.seconds
                _ = pipe.decrby(f"{self._base}{window.seconds}:{subject}:{start}", cost)
            await pipe.execute()

    async def reset(self, subject: str, now: float | None = None) -> None:
        moment = time.time() if now is None else now
        keys = [
            f"{self._base}{w.seconds}:{subject}:{int(moment // w.seconds) * w.seconds}" for w in self._windows
        ]
        await self._redis.delete(*keys)

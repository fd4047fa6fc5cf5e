"""The health-code colour cache in Redis: the contract between status (writer) and checkin (reader).

One key per person (``colour:{<person_id>}``, its own hash tag) holds what a check-in
needs: colour, reason, version and valid_until. Only people with a recorded status have
a key. The ``warm`` marker says the cache holds every recorded status; status sets it
after a full refill from Postgres. A missing key therefore means green only while the
marker exists: after a flush, readers see ``unknown`` until status refilled. A colour
whose ``valid_until`` has passed reads as green at once, before the sweep records the
change.

Every scan would read the marker: one hot key on one cluster node. A reader keeps it in
process memory instead (``WarmMarker``): once seen warm, the key is read again at most every
``WARM_CHECK_S``, inside a scan's own pipeline; while cold (only until a refill ends) with
every scan. An error of the cache forgets it. A flush without an error is therefore seen
within ``WARM_CHECK_S``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from shared.cache import RedisClient, tagged
from shared.events import ObservedColour

_SPACE = "colour:"
WARM_MARKER = "colour:warm"
# How stale a reader's memory of the warm marker may be (seconds).
WARM_CHECK_S = 2.0


@dataclass(frozen=True)
class CachedColour:
    colour: ObservedColour
    reason: str
    version: int
    valid_until: float | None = None  # Unix seconds

    def encode(self) -> bytes:
        return orjson.dumps({"c": self.colour, "r": self.reason, "v": self.version, "u": self.valid_until})

    @classmethod
    def decode(cls, raw: bytes | str) -> CachedColour:
        data = orjson.loads(raw)
        return cls(data["c"], data["r"], int(data["v"]), data.get("u"))


GREEN = CachedColour("green", "none", 0)
UNKNOWN = CachedColour("unknown", "unknown", -1)


def colour_key(prefix: str, person_id: UUID) -> str:
    return f"{prefix}{_SPACE}{tagged(person_id)}"


class WarmMarker:
    """A reader's memory of the warm marker, read again at most every ``every_s`` seconds."""

    def __init__(
        self, prefix: str, every_s: float = WARM_CHECK_S, clock: Callable[[], float] = time.monotonic
    ):
        self.key = f"{prefix}{WARM_MARKER}"
        self.warm = False
        self._every_s = every_s
        self._clock = clock
        self._read_at: float | None = None

    def due(self) -> bool:
        # A cold cache is read with every scan, so the first scan after the refill shows green;
        # only a warm one (the steady state) is trusted for every_s.
        return not self.warm or self._read_at is None or self._clock() - self._read_at >= self._every_s

    def note(self, exists: object) -> None:
        self.warm = bool(exists)
        self._read_at = self._clock()

    def forget(self) -> None:
        """The cache failed: nothing it said before counts, read the marker with the next scan."""
        self.warm = False
        self._read_at = None


def effective(entry: CachedColour | None, warm: bool, now: float | None = None) -> CachedColour:
    """What a reader shows for one person from the cache entry and the warm marker."""
    if entry is None:
        return GREEN if warm else UNKNOWN
    if entry.valid_until is not None and entry.valid_until <= (time.time() if now is None else now):
        return GREEN
    return entry


def queue_colour_reads(pipe: Any, prefix: str, person_ids: Sequence[UUID], marker: WarmMarker) -> int:
    """Queue on a caller's pipeline one GET per person (and the marker when due): each key is its
    own slot, so a cluster pipeline sends them to their nodes. Returns how many results they add."""
    reads_marker = marker.due()
    if reads_marker:
        _ = pipe.exists(marker.key)
    for person_id in person_ids:
        _ = pipe.get(colour_key(prefix, person_id))
    return len(person_ids) + int(reads_marker)


def colours_from_reads(
    person_ids: Sequence[UUID], results: Sequence[Any], marker: WarmMarker, now: float | None = None
) -> dict[UUID, CachedColour]:
    """What the reads that ``queue_colour_reads`` queued say, in its results' order."""
    if len(results) > len(person_ids):
        marker.note(results[0])
    values = results[len(results) - len(person_ids) :]
    return {
        p: effective(CachedColour.decode(value) if value is not None else None, marker.warm, now)
        for p, value in zip(person_ids, values, strict=True)
    }


async def read_colours(
    redis: RedisClient,
    prefix: str,
    person_ids: Sequence[UUID],
    marker: WarmMarker | None = None,
    now: float | None = None,
) -> dict[UUID, CachedColour]:
    """Every person's colour in one round trip (with the warm marker, unless ``marker`` is fresh)."""
    marker = marker or WarmMarker(prefix)
    try:
        async with redis.pipeline(transaction=False) as pipe:
            queue_colour_reads(pipe, prefix, person_ids, marker)
            results = await pipe.execute()
    except BaseException:
        marker.forget()
        raise
    return colours_from_reads(person_ids, results, marker, now)


async def write_colours(redis: RedisClient, prefix: str, entries: dict[UUID, CachedColour]) -> None:
    """Write entries, never replacing a newer version with an older one."""
    if not entries:
        return
    # A Lua compare-and-set keeps the version order even when two writers race. Each script
    # touches one key, so each step of the pipeline has one slot; EVAL (not EVALSHA) because a
    # cluster pipeline cannot load a script on every node first, and Redis caches it by body.
    async with redis.pipeline(transaction=False) as pipe:
        for person_id, entry in entries.items():
            _ = pipe.eval(_WRITE_IF_NEWER, 1, colour_key(prefix, person_id), entry.version, entry.encode())
        await pipe.execute()


async def mark_warm(redis: RedisClient, prefix: str) -> None:
    await redis.set(f"{prefix}{WARM_MARKER}", b"1")


async def is_warm(redis: RedisClient, prefix: str) -> bool:
    return bool(await redis.exists(f"{prefix}{WARM_MARKER}"))


_WRITE_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and tonumber(decoded['v']) > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

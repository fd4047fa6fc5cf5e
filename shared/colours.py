"""The health-code colour cache in Redis: the contract between status (writer) and checkin (reader).

One key per person holds what a check-in needs: colour, reason, version and
valid_until. Only people with a recorded status have a key. The ``warm``
marker says the cache holds every recorded status; status sets it after a
full refill from Postgres. A missing key therefore means green only while the
marker exists: after a flush, readers see ``unknown`` until status refilled.
A colour whose ``valid_until`` has passed reads as green at once, before the
sweep records the change.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import orjson
from redis.asyncio import Redis

from shared.events import ObservedColour

_SPACE = "colour:"
WARM_MARKER = "colour:warm"


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
    return f"{prefix}{_SPACE}{person_id}"


def effective(entry: CachedColour | None, warm: bool, now: float | None = None) -> CachedColour:
    """What a reader shows for one person from the cache entry and the warm marker."""
    if entry is None:
        return GREEN if warm else UNKNOWN
    if entry.valid_until is not None and entry.valid_until <= (time.time() if now is None else now):
        return GREEN
    return entry


async def read_colours(
    redis: Redis, prefix: str, person_ids: Sequence[UUID], now: float | None = None
) -> dict[UUID, CachedColour]:
    """Every person's colour in one round trip (one MGET with the warm marker)."""
    raw = await redis.mget(colours_mget_keys(prefix, person_ids))
    return colours_from_mget(person_ids, raw, now)


def colours_mget_keys(prefix: str, person_ids: Sequence[UUID]) -> list[str]:
    """The keys of ``read_colours``'s MGET (the warm marker first), for a caller's own pipeline."""
    return [f"{prefix}{WARM_MARKER}", *(colour_key(prefix, p) for p in person_ids)]


def colours_from_mget(
    person_ids: Sequence[UUID], raw: Sequence[bytes | str | None], now: float | None = None
) -> dict[UUID, CachedColour]:
    """What ``read_colours`` answers, from the values of the MGET of ``colours_mget_keys``."""
    warm = raw[0] is not None
    return {
        p: effective(CachedColour.decode(value) if value is not None else None, warm, now)
        for p, value in zip(person_ids, raw[1:], strict=True)
    }


async def write_colours(redis: Redis, prefix: str, entries: dict[UUID, CachedColour]) -> None:
    """Write entries, never replacing a newer version with an older one."""
    if not entries:
        return
    # A Lua compare-and-set keeps the version order even when two writers race.
    script = redis.register_script(_WRITE_IF_NEWER)
    async with redis.pipeline(transaction=False) as pipe:
        for person_id, entry in entries.items():
            await script(
                keys=[colour_key(prefix, person_id)],
                args=[entry.version, entry.encode()],
                client=pipe,
            )
        await pipe.execute()


async def mark_warm(redis: Redis, prefix: str) -> None:
    await redis.set(f"{prefix}{WARM_MARKER}", b"1")


async def is_warm(redis: Redis, prefix: str) -> bool:
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

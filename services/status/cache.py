"""Every Redis key and command of the status service: the colour cache and the lookup limits."""

from __future__ import annotations

from collections.abc import Sequence

from services.status.models import StatusRecord
from shared import colours
from shared.cache import RedisClient
from shared.colours import CachedColour
from shared.ratelimit import RateLimiter, Window

# The windows of the assisted-lookup limit: one minute and one day.
MINUTE_S = 60
DAY_S = 86_400


def cached(record: StatusRecord) -> CachedColour:
    until = record.valid_until.timestamp() if record.valid_until is not None else None
    return CachedColour(record.colour, record.reason, record.version, until)


class ColourCache:
    """The status side of the shared colour-cache contract (shared.colours)."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def write(self, records: Sequence[StatusRecord]) -> None:
        """Pipelined compare-and-set by version: an older entry never replaces a newer one."""
        await colours.write_colours(self._redis, self._prefix, {r.person_id: cached(r) for r in records})

    async def is_warm(self) -> bool:
        return await colours.is_warm(self._redis, self._prefix)

    async def mark_warm(self) -> None:
        await colours.mark_warm(self._redis, self._prefix)


def lookup_limiter(redis: RedisClient, prefix: str, per_minute: int, per_day: int) -> RateLimiter:
    return RateLimiter(redis, prefix, "status-lookup", [Window(per_minute, MINUTE_S), Window(per_day, DAY_S)])

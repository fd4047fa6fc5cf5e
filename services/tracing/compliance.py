"""The compliance view (issue 16): venues per region with no scan in the last N days, or whose
current poster was never printed, for the health authority to follow up.

It lives in tracing because tracing already consumes every check-in (the latest one per venue is
kept in ``tracing.venue_activity`` by the ingest pipeline) and keeps a venue read model from the
registry's events (``venue.poster_printed`` and ``venue.poster_reissued`` say what was printed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from services.tracing.models import ComplianceRow
from services.tracing.store import Store
from shared.errors import InvalidValue
from shared.regions import regions

# N is bounded: 1 day at least, 90 at most (a quarter is as far back as a follow-up looks; the
# latest check-in per venue is kept beyond the partitions' retention, so 90 is answerable).
DAYS_MIN, DAYS_MAX = 1, 90
PAGE_MIN, PAGE_MAX = 1, 200

Reason = Literal["never_scanned", "no_recent_scan", "poster_not_printed"]


@dataclass(frozen=True)
class Lagging:
    venue: ComplianceRow
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class CompliancePage:
    region: str | None
    days: int
    since: datetime
    venues: list[Lagging]
    next_after: str | None


def region_prefix(region: str | None) -> str:
    """The code prefix of a province (2 digits), a city (4) or a district (6); '' for everywhere."""
    if region is None:
        return ""
    found = regions().get(region)
    if found is None:
        raise InvalidValue("region", "no GB/T 2260 division has this code")
    return region[: {1: 2, 2: 4, 3: 6}[found.level]]


def parse_cursor(after: str | None) -> tuple[str, UUID] | None:
    if after is None:
        return None
    code, _, venue = after.partition(".")
    try:
        return code, UUID(venue)
    except ValueError:
        raise InvalidValue("after", "use the next_after value of the previous page") from None


def reasons_of(row: ComplianceRow, since: datetime) -> tuple[Reason, ...]:
    found: list[Reason] = []
    if row.last_checkin_at is None:
        found.append("never_scanned")
    elif row.last_checkin_at < since:
        found.append("no_recent_scan")
    if row.printed_version < row.poster_version:
        found.append("poster_not_printed")
    return tuple(found)


class ComplianceService:
    def __init__(self, store: Store, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self.clock = clock  # public: tests pin "now"

    async def lagging(self, region: str | None, days: int, after: str | None, limit: int) -> CompliancePage:
        if not DAYS_MIN <= days <= DAYS_MAX:
            raise InvalidValue("days", f"from {DAYS_MIN} to {DAYS_MAX}")
        if not PAGE_MIN <= limit <= PAGE_MAX:
            raise InvalidValue("limit", f"from {PAGE_MIN} to {PAGE_MAX}")
        prefix = region_prefix(region)
        cursor = parse_cursor(after)
        since = self.clock() - timedelta(days=days)
        rows = await self._store.compliance.lagging_venues(
            region_prefix=prefix, since=since, after=cursor, limit=limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        next_after = f"{rows[-1].region_code}.{rows[-1].venue_id}" if more else None
        return CompliancePage(
            region, days, since, [Lagging(r, reasons_of(r, since)) for r in rows], next_after
        )

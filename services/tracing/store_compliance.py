"""SQL of the compliance view (issue 16): the venue read model's poster columns and the venues
with no check-in since a time, or whose current poster was never printed."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.tracing.models import ComplianceRow
from services.tracing.store_base import Connections


class ComplianceStore:
    def __init__(self, db: Connections) -> None:
        self._db = db

    async def raise_poster_version(self, venue_id: UUID, version: int) -> None:
        """A reissue: the current poster's version (never lowered: events may come twice)."""
        async with self._db() as conn:
            await conn.execute(
                "UPDATE tracing.venues SET poster_version = GREATEST(poster_version, $2) WHERE venue_id = $1",
                venue_id,
                version,
            )

    async def raise_printed_version(self, venue_id: UUID, version: int) -> None:
        """A first print of a poster version."""
        async with self._db() as conn:
            await conn.execute(
                "UPDATE tracing.venues SET printed_version = GREATEST(printed_version, $2)"
                " WHERE venue_id = $1",
                venue_id,
                version,
            )

    async def lagging_venues(
        self, *, region_prefix: str, since: datetime, after: tuple[str, UUID] | None, limit: int
    ) -> list[ComplianceRow]:
        """Venues under the region prefix with no check-in since ``since`` or an unprinted poster,
        in (region_code, venue_id) order after the cursor: keyset paging over the region index."""
        async with self._db() as conn:
            rows = await conn.fetch(
                "SELECT v.venue_id, v.region_code, v.name, v.address, v.category, v.poster_version,"
                " v.printed_version, v.registered_at, a.last_checkin_at"
                " FROM tracing.venues v LEFT JOIN tracing.venue_activity a ON a.venue_id = v.venue_id"
                " WHERE v.region_code LIKE $1 || '%'"
                " AND ($3::text IS NULL OR (v.region_code, v.venue_id) > ($3::text, $4::uuid))"
                " AND (a.last_checkin_at IS NULL OR a.last_checkin_at < $2"
                " OR v.printed_version < v.poster_version)"
                " ORDER BY v.region_code, v.venue_id LIMIT $5",
                region_prefix,
                since,
                None if after is None else after[0],
                None if after is None else after[1],
                limit,
            )
        return [ComplianceRow(**dict(r)) for r in rows]

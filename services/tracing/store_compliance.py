"""SQL of the compliance view (issue 16): the venue read model's poster columns and the list of
venues with no scan since a time, or whose current poster was never printed."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from services.tracing.models import ComplianceRow
from shared.events import VenuePosterPrinted, VenuePosterReissued

# A pooled connection or a plain one (asyncpg-stubs types them apart; both speak the same API).
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


async def poster_event(conn: Conn, event: VenuePosterReissued | VenuePosterPrinted) -> None:
    """Raise the venue's poster or printed version (never lower: events may come twice)."""
    column = "poster_version" if isinstance(event, VenuePosterReissued) else "printed_version"
    await conn.execute(
        f"UPDATE tracing.venues SET {column} = GREATEST({column}, $2) WHERE venue_id = $1",  # noqa: S608 - one of two names
        event.data.venue_id,
        event.data.poster_version,
    )


async def lagging_venues(
    conn: Conn,
    *,
    region_prefix: str,
    since: datetime,
    after: tuple[str, UUID] | None,
    limit: int,
) -> list[ComplianceRow]:
    """Venues under the region prefix with no check-in since ``since`` or an unprinted poster,
    in (region_code, venue_id) order after the cursor: keyset paging over the region index."""
    rows = await conn.fetch(
        "SELECT v.venue_id, v.region_code, v.name, v.address, v.category, v.poster_version,"
        " v.printed_version, v.registered_at, a.last_checkin_at"
        " FROM tracing.venues v LEFT JOIN tracing.venue_activity a ON a.venue_id = v.venue_id"
        " WHERE v.region_code LIKE $1 || '%'"
        " AND ($3::text IS NULL OR (v.region_code, v.venue_id) > ($3::text, $4::uuid))"
        " AND (a.last_checkin_at IS NULL OR a.last_checkin_at < $2 OR v.printed_version < v.poster_version)"
        " ORDER BY v.region_code, v.venue_id LIMIT $5",
        region_prefix,
        since,
        None if after is None else after[0],
        None if after is None else after[1],
        limit,
    )
    return [
        ComplianceRow(
            venue_id=r["venue_id"],
            region_code=r["region_code"],
            name=r["name"],
            address=r["address"],
            category=r["category"],
            poster_version=r["poster_version"],
            printed_version=r["printed_version"],
            registered_at=r["registered_at"],
            last_checkin_at=r["last_checkin_at"],
        )
        for r in rows
    ]

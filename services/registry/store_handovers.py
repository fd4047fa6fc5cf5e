"""SQL of venue handovers (issue 16): offers, answers, operator reassignments, first prints.

Functions take the connection, as ``store.py`` does, so the rules decide what shares a
transaction; unique violations are left to the caller, which names the rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from services.registry.models import Handover, HandoverKind, HandoverState

# A pooled connection or a plain one (asyncpg-stubs types them apart; both speak the same API).
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

_HANDOVER = (
    "SELECT h.handover_id, h.venue_id, v.name AS venue_name, h.kind, h.from_id,"
    " f.masked_name AS from_masked_name, h.to_id, t.masked_name AS to_masked_name, h.requested_by,"
    " h.state, h.created_at, h.expires_at, h.decided_at"
    " FROM registry.venue_handovers h JOIN registry.venues v ON v.venue_id = h.venue_id"
    " JOIN registry.people f ON f.person_id = h.from_id JOIN registry.people t ON t.person_id = h.to_id"
)


def _handover(row: Any) -> Handover:
    return Handover(
        row["handover_id"],
        row["venue_id"],
        row["venue_name"],
        row["kind"],
        row["from_id"],
        row["from_masked_name"],
        row["to_id"],
        row["to_masked_name"],
        row["requested_by"],
        row["state"],
        row["created_at"],
        row["expires_at"],
        row["decided_at"],
    )


async def insert_handover(
    conn: Conn,
    *,
    handover_id: UUID,
    venue_id: UUID,
    kind: HandoverKind,
    from_id: UUID,
    to_id: UUID,
    requested_by: UUID,
    state: HandoverState,
    now: datetime,
    expires_at: datetime,
) -> Handover:
    decided = None if state == "pending" else now
    await conn.execute(
        "INSERT INTO registry.venue_handovers (handover_id, venue_id, kind, from_id, to_id, requested_by,"
        " state, created_at, expires_at, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        handover_id,
        venue_id,
        kind,
        from_id,
        to_id,
        requested_by,
        state,
        now,
        expires_at,
        decided,
    )
    found = await handover_by_id(conn, handover_id)
    assert found is not None
    return found


async def handover_by_id(conn: Conn, handover_id: UUID, *, for_update: bool = False) -> Handover | None:
    lock = " FOR UPDATE OF h" if for_update else ""
    row = await conn.fetchrow(f"{_HANDOVER} WHERE h.handover_id = $1{lock}", handover_id)
    return None if row is None else _handover(row)


async def set_state(conn: Conn, handover_id: UUID, state: HandoverState, now: datetime) -> None:
    await conn.execute(
        "UPDATE registry.venue_handovers SET state = $2, decided_at = $3 WHERE handover_id = $1",
        handover_id,
        state,
        now,
    )


async def close_pending(conn: Conn, venue_id: UUID, now: datetime, *, expired_only: bool) -> None:
    """End the venue's pending offer: only when it has expired, or (a reassignment) in any case."""
    await conn.execute(
        "UPDATE registry.venue_handovers SET state = CASE WHEN expires_at <= $2 THEN 'expired'"
        " ELSE 'cancelled' END, decided_at = $2"
        " WHERE venue_id = $1 AND state = 'pending' AND ($3 = false OR expires_at <= $2)",
        venue_id,
        now,
        expired_only,
    )


async def pending_for(conn: Conn, person_id: UUID, now: datetime) -> list[Handover]:
    rows = await conn.fetch(
        f"{_HANDOVER} WHERE h.to_id = $1 AND h.state = 'pending' AND h.expires_at > $2 ORDER BY h.created_at",
        person_id,
        now,
    )
    return [_handover(r) for r in rows]


async def handovers_of_venue(conn: Conn, venue_id: UUID) -> list[Handover]:
    rows = await conn.fetch(f"{_HANDOVER} WHERE h.venue_id = $1 ORDER BY h.created_at DESC", venue_id)
    return [_handover(r) for r in rows]


async def lock_venue_administrator(conn: Conn, venue_id: UUID) -> UUID | None:
    """The venue's administrator, the row locked so answers and reassignments run one at a time."""
    found: UUID | None = await conn.fetchval(
        "SELECT administrator_id FROM registry.venues WHERE venue_id = $1 FOR UPDATE", venue_id
    )
    return found


async def administrator_of(conn: Conn, venue_id: UUID) -> UUID | None:
    found: UUID | None = await conn.fetchval(
        "SELECT administrator_id FROM registry.venues WHERE venue_id = $1", venue_id
    )
    return found


async def set_administrator(conn: Conn, venue_id: UUID, person_id: UUID) -> None:
    await conn.execute(
        "UPDATE registry.venues SET administrator_id = $2 WHERE venue_id = $1", venue_id, person_id
    )


async def accounts_with_phone(conn: Conn, phone: str) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT person_id FROM registry.people WHERE phone = $1 AND password_hash IS NOT NULL LIMIT 2",
        phone,
    )
    return [r["person_id"] for r in rows]


async def is_account(conn: Conn, person_id: UUID) -> bool:
    found = await conn.fetchval(
        "SELECT true FROM registry.people WHERE person_id = $1 AND password_hash IS NOT NULL", person_id
    )
    return bool(found)


async def administers(conn: Conn, person_id: UUID) -> bool:
    found = await conn.fetchval("SELECT true FROM registry.venues WHERE administrator_id = $1", person_id)
    return bool(found)


async def mark_printed(conn: Conn, venue_id: UUID, poster_version: int) -> bool:
    """True the first time this poster version is printed (downloaded)."""
    done = await conn.fetchval(
        "UPDATE registry.venues SET printed_version = $2"
        " WHERE venue_id = $1 AND printed_version < $2 RETURNING true",
        venue_id,
        poster_version,
    )
    return bool(done)

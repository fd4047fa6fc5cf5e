"""The SQL of assisted registration: who may register people on the spot, and its audit."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.registry.store import Conn


async def inspects_any_venue(conn: Conn, person_id: UUID) -> bool:
    found = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM registry.inspector_bindings WHERE person_id = $1)", person_id
    )
    return bool(found)


async def record_assisted_registration(conn: Conn, person_id: UUID, registered_by: UUID) -> datetime:
    """The audit row of one assisted registration; when it was made."""
    at: datetime = await conn.fetchval(
        "INSERT INTO registry.assisted_registrations (person_id, registered_by) VALUES ($1, $2)"
        " RETURNING registered_at",
        person_id,
        registered_by,
    )
    return at

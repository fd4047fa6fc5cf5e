"""The SQL of assisted registration: who may register people on the spot, and its audit."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.registry.store_db import Db


class AssistedStore:
    """``registry.assisted_registrations`` and the one question it asks of the bindings."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def inspects_any_venue(self, person_id: UUID) -> bool:
        found = await self._db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM registry.inspector_bindings WHERE person_id = $1)", person_id
        )
        return bool(found)

    async def record(self, person_id: UUID, registered_by: UUID) -> datetime:
        """The audit row of one assisted registration; when it was made."""
        at: datetime = await self._db.fetchval(
            "INSERT INTO registry.assisted_registrations (person_id, registered_by) VALUES ($1, $2)"
            " RETURNING registered_at",
            person_id,
            registered_by,
        )
        return at

"""The SQL of venue handovers (issue 16): offers, answers and operator reassignments
(``registry.venue_handovers``), and the venue's administrator they change."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from services.registry.errors import HandoverPending, RecipientAdministers
from services.registry.models_handovers import Handover, HandoverKind, HandoverState
from services.registry.store_db import Db, savepoint

_HANDOVER = (
    "SELECT h.handover_id, h.venue_id, v.name AS venue_name, h.kind, h.from_id,"
    " f.masked_name AS from_masked_name, h.to_id, t.masked_name AS to_masked_name, h.requested_by,"
    " h.state, h.created_at, h.expires_at, h.decided_at"
    " FROM registry.venue_handovers h JOIN registry.venues v ON v.venue_id = h.venue_id"
    " JOIN registry.people f ON f.person_id = h.from_id JOIN registry.people t ON t.person_id = h.to_id"
)


def _handover(row: asyncpg.Record) -> Handover:
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


class HandoverStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def insert(
        self,
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
        """The new row; a second pending offer of the venue raises ``HandoverPending`` (the
        partial unique index ``venue_handovers_one_pending``)."""
        try:
            async with savepoint(self._db):
                await self._db.execute(
                    "INSERT INTO registry.venue_handovers (handover_id, venue_id, kind, from_id, to_id,"
                    " requested_by, state, created_at, expires_at, decided_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    handover_id,
                    venue_id,
                    kind,
                    from_id,
                    to_id,
                    requested_by,
                    state,
                    now,
                    expires_at,
                    None if state == "pending" else now,
                )
        except asyncpg.UniqueViolationError as exc:
            raise HandoverPending from exc
        found = await self.by_id(handover_id)
        assert found is not None
        return found

    async def by_id(self, handover_id: UUID, *, for_update: bool = False) -> Handover | None:
        lock = " FOR UPDATE OF h" if for_update else ""
        row = await self._db.fetchrow(f"{_HANDOVER} WHERE h.handover_id = $1{lock}", handover_id)
        return None if row is None else _handover(row)

    async def set_state(self, handover_id: UUID, state: HandoverState, now: datetime) -> None:
        await self._db.execute(
            "UPDATE registry.venue_handovers SET state = $2, decided_at = $3 WHERE handover_id = $1",
            handover_id,
            state,
            now,
        )

    async def close_pending(self, venue_id: UUID, now: datetime, *, expired_only: bool) -> None:
        """End the venue's pending offer: only when it has expired, or (a reassignment) in any case."""
        await self._db.execute(
            "UPDATE registry.venue_handovers SET state = CASE WHEN expires_at <= $2 THEN 'expired'"
            " ELSE 'cancelled' END, decided_at = $2"
            " WHERE venue_id = $1 AND state = 'pending' AND ($3 = false OR expires_at <= $2)",
            venue_id,
            now,
            expired_only,
        )

    async def pending_for(self, person_id: UUID, now: datetime) -> list[Handover]:
        rows = await self._db.fetch(
            f"{_HANDOVER} WHERE h.to_id = $1 AND h.state = 'pending' AND h.expires_at > $2"
            " ORDER BY h.created_at",
            person_id,
            now,
        )
        return [_handover(r) for r in rows]

    async def of_venue(self, venue_id: UUID) -> list[Handover]:
        rows = await self._db.fetch(f"{_HANDOVER} WHERE h.venue_id = $1 ORDER BY h.created_at DESC", venue_id)
        return [_handover(r) for r in rows]

    async def administrator_of(self, venue_id: UUID, *, for_update: bool = False) -> UUID | None:
        """The venue's administrator; locked, answers and reassignments of a venue run one at a time."""
        lock = " FOR UPDATE" if for_update else ""
        found: UUID | None = await self._db.fetchval(
            f"SELECT administrator_id FROM registry.venues WHERE venue_id = $1{lock}",  # noqa: S608 - a fixed lock clause
            venue_id,
        )
        return found

    async def set_administrator(self, venue_id: UUID, person_id: UUID) -> None:
        """Raises ``RecipientAdministers`` when the person holds a venue already (one each)."""
        try:
            async with savepoint(self._db):
                await self._db.execute(
                    "UPDATE registry.venues SET administrator_id = $2 WHERE venue_id = $1",
                    venue_id,
                    person_id,
                )
        except asyncpg.UniqueViolationError as exc:  # venues_one_per_administrator
            raise RecipientAdministers("That account already administers a venue; one holds one.") from exc

    async def accounts_with_phone(self, phone: str) -> list[UUID]:
        """At most two: enough to tell one account from several."""
        rows = await self._db.fetch(
            "SELECT person_id FROM registry.people WHERE phone = $1 AND password_hash IS NOT NULL LIMIT 2",
            phone,
        )
        return [r["person_id"] for r in rows]

    async def is_account(self, person_id: UUID) -> bool:
        found = await self._db.fetchval(
            "SELECT true FROM registry.people WHERE person_id = $1 AND password_hash IS NOT NULL", person_id
        )
        return bool(found)

    async def administers(self, person_id: UUID) -> bool:
        found = await self._db.fetchval(
            "SELECT true FROM registry.venues WHERE administrator_id = $1", person_id
        )
        return bool(found)

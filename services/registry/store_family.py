"""The SQL of family links (``registry.guardianships``)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.registry.models import Dependent, Guardian, LinkState
from services.registry.store_db import Db

_DEPENDENT = (
    "SELECT p.person_id, p.masked_name, p.masked_id, p.birth_date, g.relation, g.linked_at, g.state"
    " FROM registry.guardianships g JOIN registry.people p ON p.person_id = g.person_id"
)
_GUARDIAN = (
    "SELECT g.guardian_id, p.masked_name, g.relation, g.linked_at, g.state"
    " FROM registry.guardianships g JOIN registry.people p ON p.person_id = g.guardian_id"
)


def _dependent(row: asyncpg.Record) -> Dependent:
    return Dependent(
        row["person_id"],
        row["masked_name"],
        row["masked_id"],
        row["relation"],
        row["birth_date"],
        row["linked_at"],
        row["state"],
    )


def _guardian(row: asyncpg.Record) -> Guardian:
    return Guardian(row["guardian_id"], row["masked_name"], row["relation"], row["linked_at"], row["state"])


class FamilyStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def link(self, guardian_id: UUID, person_id: UUID, relation: str, state: LinkState) -> bool:
        """True when the link is new; an existing link (pending or active) is left as it is."""
        done = await self._db.fetchval(
            "INSERT INTO registry.guardianships (guardian_id, person_id, relation, state, accepted_at)"
            " VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'active' THEN now() END)"
            " ON CONFLICT DO NOTHING RETURNING true",
            guardian_id,
            person_id,
            relation,
            state,
        )
        return bool(done)

    async def accept(self, guardian_id: UUID, person_id: UUID) -> bool:
        """Turn a pending request into an active link; False when no request is pending."""
        done = await self._db.fetchval(
            "UPDATE registry.guardianships SET state = 'active', accepted_at = now()"
            " WHERE guardian_id = $1 AND person_id = $2 AND state = 'pending' RETURNING true",
            guardian_id,
            person_id,
        )
        return bool(done)

    async def end(self, guardian_id: UUID, person_id: UUID) -> LinkState | None:
        """Delete the link; the state it had, or None when there was none."""
        state: LinkState | None = await self._db.fetchval(
            "DELETE FROM registry.guardianships WHERE guardian_id = $1 AND person_id = $2 RETURNING state",
            guardian_id,
            person_id,
        )
        return state

    async def dependents_of(self, guardian_id: UUID) -> list[Dependent]:
        rows = await self._db.fetch(
            _DEPENDENT + " WHERE g.guardian_id = $1 ORDER BY g.linked_at", guardian_id
        )
        return [_dependent(r) for r in rows]

    async def dependent(self, guardian_id: UUID, person_id: UUID) -> Dependent | None:
        row = await self._db.fetchrow(
            _DEPENDENT + " WHERE g.guardian_id = $1 AND g.person_id = $2", guardian_id, person_id
        )
        return None if row is None else _dependent(row)

    async def guardians_of(self, person_id: UUID) -> list[Guardian]:
        rows = await self._db.fetch(_GUARDIAN + " WHERE g.person_id = $1 ORDER BY g.linked_at", person_id)
        return [_guardian(r) for r in rows]

    async def guardian(self, guardian_id: UUID, person_id: UUID) -> Guardian | None:
        row = await self._db.fetchrow(
            _GUARDIAN + " WHERE g.guardian_id = $1 AND g.person_id = $2", guardian_id, person_id
        )
        return None if row is None else _guardian(row)

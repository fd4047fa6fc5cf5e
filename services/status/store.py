"""Every SQL statement of the status service (asyncpg, ``$1`` placeholders), returning models.

``Store`` holds the reads and the single-statement writes, each on its own pooled connection; a
write that spans statements runs in a unit of work (``store_unit.Unit``), one transaction:
``async with store.unit() as unit`` (or ``store.event(event_id)`` for a consumed event).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from uuid import UUID

import asyncpg

from services.status.models import Dependent, HistoryRow, Person, Source, StatusRecord
from services.status.store_unit import SCHEMA, STATUS_COLUMNS, Unit, person_of, status_of
from shared.db import claim_event, transaction
from shared.outbox import OutboxTable

# Failures of a statement that a retry cannot change (a value the schema refuses): what the
# subscribers park instead of redelivering.
DATA_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)


class Store:
    """The status schema: read models, current status and history, paper serials, audits."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.outbox = OutboxTable(pool, SCHEMA)

    def unit(self) -> AbstractAsyncContextManager[Unit]:
        """One transaction: every write of the block commits together, or none does."""
        return transaction(self._pool, Unit)

    @asynccontextmanager
    async def event(self, event_id: UUID) -> AsyncIterator[Unit | None]:
        """A unit for one consumed event; None when the event was handled before."""
        async with self._pool.acquire() as conn, conn.transaction():
            yield Unit(conn) if await claim_event(conn, SCHEMA, event_id) else None

    # --- the read models of registry events -----------------------------------------

    async def person(self, person_id: UUID) -> Person | None:
        row = await self._pool.fetchrow("SELECT * FROM status.people WHERE person_id = $1", person_id)
        return None if row is None else person_of(row)

    async def people_with_id_digest(self, id_digest: str) -> list[Person]:
        rows = await self._pool.fetch("SELECT * FROM status.people WHERE id_digest = $1", id_digest)
        return [person_of(r) for r in rows]

    async def guards(self, guardian_id: UUID, person_id: UUID) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM status.guardians WHERE guardian_id = $1 AND person_id = $2)",
                guardian_id,
                person_id,
            )
        )

    async def dependents_of(self, guardian_id: UUID) -> list[Dependent]:
        rows = await self._pool.fetch(
            "SELECT g.person_id, coalesce(p.masked_name, '*') AS masked_name FROM status.guardians g"
            " LEFT JOIN status.people p ON p.person_id = g.person_id"
            " WHERE g.guardian_id = $1 ORDER BY g.linked_at",
            guardian_id,
        )
        return [Dependent(r["person_id"], r["masked_name"]) for r in rows]

    async def is_inspector(self, person_id: UUID) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM status.inspector_bindings WHERE person_id = $1 AND bound)",
                person_id,
            )
        )

    # --- status ----------------------------------------------------------------------

    async def current(self, person_id: UUID) -> StatusRecord | None:
        row = await self._pool.fetchrow(
            f"SELECT {STATUS_COLUMNS} FROM status.current_status WHERE person_id = $1",  # noqa: S608
            person_id,
        )
        return None if row is None else status_of(row)

    async def expiring(self, now: datetime, limit: int) -> list[tuple[UUID, int]]:
        """Who has a colour whose valid_until passed, with its version: ``(person_id, version)``."""
        rows = await self._pool.fetch(
            "SELECT person_id, version FROM status.current_status"
            " WHERE valid_until <= $1 AND colour <> 'green' ORDER BY valid_until LIMIT $2",
            now,
            limit,
        )
        return [(r["person_id"], r["version"]) for r in rows]

    async def statuses_after(self, after: UUID | None, limit: int) -> list[StatusRecord]:
        """One page of every recorded status, in person_id order (keyset paging for the refill)."""
        rows = await self._pool.fetch(
            f"SELECT {STATUS_COLUMNS} FROM status.current_status"  # noqa: S608
            " WHERE $1::uuid IS NULL OR person_id > $1 ORDER BY person_id LIMIT $2",
            after,
            limit,
        )
        return [status_of(r) for r in rows]

    async def history(self, person_id: UUID) -> list[HistoryRow]:
        rows = await self._pool.fetch(
            "SELECT colour, reason, version, valid_until, effective_at, recorded_at, source"
            " FROM status.history WHERE person_id = $1 ORDER BY version",
            person_id,
        )
        return [
            HistoryRow(
                r["colour"],
                r["reason"],
                r["version"],
                r["valid_until"],
                r["effective_at"],
                r["recorded_at"],
                Source(r["source"]),
            )
            for r in rows
        ]

    # --- paper codes and audits ------------------------------------------------------

    async def paper_serial(self, person_id: UUID) -> int | None:
        serial = await self._pool.fetchval(
            "SELECT serial FROM status.paper_codes WHERE person_id = $1", person_id
        )
        return None if serial is None else int(serial)

    async def audit_history_read(self, reader_id: UUID, person_id: UUID, at: datetime) -> None:
        await self._pool.execute(
            "INSERT INTO status.history_audit (reader_id, person_id, at) VALUES ($1, $2, $3)",
            reader_id,
            person_id,
            at,
        )

    async def audit_verify(
        self,
        inspector_id: UUID,
        person_id: UUID | None,
        token_kind: str | None,
        result: str,
        at: datetime,
    ) -> None:
        await self._pool.execute(
            "INSERT INTO status.verify_audit (inspector_id, person_id, token_kind, result, at)"
            " VALUES ($1, $2, $3, $4, $5)",
            inspector_id,
            person_id,
            token_kind,
            result,
            at,
        )

    async def audit_lookup(
        self, caller_id: UUID, id_digest: str | None, person_id: UUID | None, result: str, at: datetime
    ) -> None:
        await self._pool.execute(
            "INSERT INTO status.lookup_audit (caller_id, id_digest, person_id, result, at)"
            " VALUES ($1, $2, $3, $4, $5)",
            caller_id,
            id_digest,
            person_id,
            result,
            at,
        )

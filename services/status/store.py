"""Every SQL statement of the status service (asyncpg, ``$1`` placeholders), returning models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.status import store_alerts
from services.status.models import Change, Person, Source, StatusRecord
from shared import db
from shared.events import PersonRegisteredData

SCHEMA = "status"
_STATUS_COLUMNS = store_alerts.STATUS_COLUMNS


def _person(row: Any) -> Person:
    return Person(
        row["person_id"],
        row["id_kind"],
        row["id_digest"],
        row["name_digest"],
        row["birth_date"],
        row["masked_name"],
        row["masked_id"],
        row["registered_at"],
    )


def _status(row: Any) -> StatusRecord:
    return StatusRecord(
        row["person_id"],
        row["colour"],
        row["reason"],
        row["version"],
        row["valid_until"],
        row["effective_at"],
        row["updated_at"],
    )


# Colour order for "never lower by command": red above yellow above green.
_SEVERITY = "(CASE {} WHEN 'red' THEN 2 WHEN 'yellow' THEN 1 ELSE 0 END)"


class Store:
    """The status schema: read models, current status and history, paper serials, audits."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield conn

    async def claim_event(self, conn: asyncpg.Connection, event_id: UUID) -> bool:
        return await db.claim_event(conn, SCHEMA, event_id)

    # --- read models from registry events -------------------------------------------

    async def record_person(self, conn: asyncpg.Connection, data: PersonRegisteredData, at: datetime) -> None:
        await conn.execute(
            "INSERT INTO status.people (person_id, id_kind, id_digest, name_digest, birth_date,"
            " masked_name, masked_id, registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (person_id) DO UPDATE SET id_kind = EXCLUDED.id_kind,"
            " id_digest = EXCLUDED.id_digest, name_digest = EXCLUDED.name_digest,"
            " birth_date = EXCLUDED.birth_date, masked_name = EXCLUDED.masked_name,"
            " masked_id = EXCLUDED.masked_id",
            data.person_id,
            data.id_kind,
            data.id_digest,
            data.name_digest,
            data.birth_date,
            data.masked_name,
            data.masked_id,
            at,
        )

    async def link_guardian(
        self, conn: asyncpg.Connection, guardian_id: UUID, person_id: UUID, relation: str, at: datetime
    ) -> None:
        await conn.execute(
            "INSERT INTO status.guardians (guardian_id, person_id, relation, linked_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            guardian_id,
            person_id,
            relation,
            at,
        )

    async def unlink_guardian(self, conn: asyncpg.Connection, guardian_id: UUID, person_id: UUID) -> None:
        await conn.execute(
            "DELETE FROM status.guardians WHERE guardian_id = $1 AND person_id = $2", guardian_id, person_id
        )

    async def set_binding(
        self, conn: asyncpg.Connection, person_id: UUID, venue_id: UUID, bound: bool, at: datetime
    ) -> None:
        # Bound and unbound may arrive out of order: the later act wins.
        await conn.execute(
            "INSERT INTO status.inspector_bindings AS b (person_id, venue_id, bound, changed_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, venue_id) DO UPDATE"
            " SET bound = EXCLUDED.bound, changed_at = EXCLUDED.changed_at"
            " WHERE b.changed_at <= EXCLUDED.changed_at",
            person_id,
            venue_id,
            bound,
            at,
        )

    async def person(self, person_id: UUID) -> Person | None:
        row = await self._pool.fetchrow("SELECT * FROM status.people WHERE person_id = $1", person_id)
        return None if row is None else _person(row)

    async def people_with_id_digest(self, id_digest: str) -> list[Person]:
        rows = await self._pool.fetch("SELECT * FROM status.people WHERE id_digest = $1", id_digest)
        return [_person(r) for r in rows]

    async def guards(self, guardian_id: UUID, person_id: UUID) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM status.guardians WHERE guardian_id = $1 AND person_id = $2)",
                guardian_id,
                person_id,
            )
        )

    async def dependants_of(self, guardian_id: UUID) -> list[tuple[UUID, str]]:
        rows = await self._pool.fetch(
            "SELECT g.person_id, coalesce(p.masked_name, '*') AS masked_name FROM status.guardians g"
            " LEFT JOIN status.people p ON p.person_id = g.person_id"
            " WHERE g.guardian_id = $1 ORDER BY g.linked_at",
            guardian_id,
        )
        return [(r["person_id"], r["masked_name"]) for r in rows]

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
            f"SELECT {_STATUS_COLUMNS} FROM status.current_status WHERE person_id = $1",  # noqa: S608
            person_id,
        )
        return None if row is None else _status(row)

    async def apply_change(
        self, conn: asyncpg.Connection, change: Change, now: datetime, *, force: bool
    ) -> StatusRecord | None:
        """Record a change and its history row; None when it is older than the current status.

        One upsert under the row lock decides: the version grows by one, and unless
        ``force`` (the authority acting now) a change whose act is not newer than the
        recorded one changes nothing, so a replayed or late command cannot win, and a
        command cannot lower a colour that is still in force.
        """
        row = await conn.fetchrow(
            "INSERT INTO status.current_status AS s"  # noqa: S608 - only the fixed column list is interpolated
            " (person_id, colour, reason, version, valid_until, effective_at, updated_at)"
            " VALUES ($1, $2, $3, 1, $4, $5, $6) ON CONFLICT (person_id) DO UPDATE SET"
            " colour = EXCLUDED.colour, reason = EXCLUDED.reason, version = s.version + 1,"
            " valid_until = EXCLUDED.valid_until,"
            " effective_at = GREATEST(s.effective_at, EXCLUDED.effective_at),"
            " updated_at = EXCLUDED.updated_at"
            " WHERE $7::boolean OR (s.effective_at < EXCLUDED.effective_at"
            # A command never lowers a colour still in force: a red case named as someone's
            # contact stays red. Only the health authority (force) lowers one.
            f" AND ({_SEVERITY.format('EXCLUDED.colour')} >= {_SEVERITY.format('s.colour')}"
            " OR s.valid_until <= $6))"
            f" RETURNING {_STATUS_COLUMNS}",
            change.person_id,
            change.colour,
            change.reason,
            change.valid_until,
            change.effective_at,
            now,
            force,
        )
        if row is None:
            return None
        record = _status(row)
        await self._history(
            conn,
            record,
            now,
            source=change.source,
            set_by=change.set_by,
            source_query_id=change.source_query_id,
            note=change.note,
            alert_id=change.alert_id,
        )
        return record

    async def expiring(self, now: datetime, limit: int) -> list[tuple[UUID, int]]:
        rows = await self._pool.fetch(
            "SELECT person_id, version FROM status.current_status"
            " WHERE valid_until <= $1 AND colour <> 'green' ORDER BY valid_until LIMIT $2",
            now,
            limit,
        )
        return [(r["person_id"], r["version"]) for r in rows]

    async def expire(
        self, conn: asyncpg.Connection, person_id: UUID, version: int, now: datetime
    ) -> StatusRecord | None:
        """Turn one expired colour green (at the moment it expired), unless it changed meanwhile."""
        row = await conn.fetchrow(
            "UPDATE status.current_status SET colour = 'green', reason = 'none',"  # noqa: S608 - fixed column list
            " version = version + 1, valid_until = NULL,"
            " effective_at = GREATEST(effective_at, valid_until), updated_at = valid_until"
            " WHERE person_id = $1 AND version = $2 AND valid_until <= $3 AND colour <> 'green'"
            f" RETURNING {_STATUS_COLUMNS}",
            person_id,
            version,
            now,
        )
        if row is None:
            return None
        record = _status(row)
        await self._history(
            conn, record, now, source=Source.EXPIRY, set_by=None, source_query_id=None, note=None
        )
        return record

    async def _history(
        self,
        conn: asyncpg.Connection,
        record: StatusRecord,
        now: datetime,
        *,
        source: Source,
        set_by: UUID | None,
        source_query_id: UUID | None,
        note: str | None,
        alert_id: UUID | None = None,
    ) -> None:
        await conn.execute(
            "INSERT INTO status.history (person_id, colour, reason, version, valid_until, effective_at,"
            " recorded_at, source, set_by, source_query_id, note, alert_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            record.person_id,
            record.colour,
            record.reason,
            record.version,
            record.valid_until,
            record.effective_at,
            now,
            source.value,
            set_by,
            source_query_id,
            note,
            alert_id,
        )

    # --- venue alerts: undo exactly what a withdrawn alert changed --------------------

    async def alert_withdrawn(self, conn: asyncpg.Connection, alert_id: UUID) -> bool:
        return await store_alerts.is_withdrawn(conn, alert_id)

    async def revert_alert(
        self, conn: asyncpg.Connection, alert_id: UUID, by: UUID, effective_at: datetime, now: datetime
    ) -> list[StatusRecord]:
        """Mark the alert withdrawn and restore everyone whose current status the alert set.

        A person whose latest change came from the alert gets back their last status from
        before it (green when they had none, or when it has expired since); anyone changed
        by something else since is left as they are. The version check in the UPDATE holds
        under concurrency: a row changed meanwhile no longer matches and stays.
        """
        await store_alerts.mark_withdrawn(conn, alert_id, by, now)
        rows = await conn.fetch(store_alerts.REVERT, alert_id, effective_at, now)
        records = [_status(r) for r in rows]
        for record in records:
            await self._history(
                conn,
                record,
                now,
                source=Source.REVERT,
                set_by=by,
                source_query_id=None,
                note=None,
                alert_id=alert_id,
            )
        return records

    async def statuses_after(self, after: UUID | None, limit: int) -> list[StatusRecord]:
        """One page of every recorded status, in person_id order (keyset paging for the refill)."""
        rows = await self._pool.fetch(
            f"SELECT {_STATUS_COLUMNS} FROM status.current_status"  # noqa: S608
            " WHERE $1::uuid IS NULL OR person_id > $1 ORDER BY person_id LIMIT $2",
            after,
            limit,
        )
        return [_status(r) for r in rows]

    async def history(self, person_id: UUID) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT colour, reason, version, valid_until, effective_at, recorded_at, source"
            " FROM status.history WHERE person_id = $1 ORDER BY version",
            person_id,
        )
        return [dict(r) for r in rows]

    # --- the outbox of status events (status.changed, paper_code.issued) -------------------

    # The outbox runs on the database's wall clock, not the service clock: it is plumbing,
    # and a test's manual clock must not make fresh rows look stale.

    async def queue_event(self, conn: asyncpg.Connection, person_id: UUID, payload: bytes) -> int:
        outbox_id = await conn.fetchval(
            "INSERT INTO status.outbox (person_id, payload, created_at) VALUES ($1, $2, now()) RETURNING id",
            person_id,
            payload,
        )
        return int(outbox_id)

    async def unsent(self, older_than_s: float, limit: int) -> list[tuple[int, bytes]]:
        rows = await self._pool.fetch(
            "SELECT id, payload FROM status.outbox"
            " WHERE created_at < now() - make_interval(secs => $1) ORDER BY id LIMIT $2",
            older_than_s,
            limit,
        )
        return [(r["id"], bytes(r["payload"])) for r in rows]

    async def mark_sent(self, outbox_ids: list[int]) -> None:
        await self._pool.execute("DELETE FROM status.outbox WHERE id = ANY($1::bigint[])", outbox_ids)

    # --- paper codes and audits ------------------------------------------------------

    async def next_paper_serial(
        self, conn: asyncpg.Connection, person_id: UUID, issued_by: UUID, now: datetime
    ) -> int:
        serial = await conn.fetchval(
            "INSERT INTO status.paper_codes AS p (person_id, serial, issued_at, issued_by)"
            " VALUES ($1, 1, $2, $3) ON CONFLICT (person_id) DO UPDATE"
            " SET serial = p.serial + 1, issued_at = EXCLUDED.issued_at, issued_by = EXCLUDED.issued_by"
            " RETURNING serial",
            person_id,
            now,
            issued_by,
        )
        return int(serial)

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

"""The writes of the status service that run in one transaction: a unit of work (``Store.unit``).

A unit's methods share its connection, so a change, its history row and the outbox rows that
announce it commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from services.status.models import Change, Person, Source, StatusRecord
from shared import outbox
from shared.db import Conn
from shared.events import PersonRegisteredData

SCHEMA = "status"
STATUS_COLUMNS = "person_id, colour, reason, version, valid_until, effective_at, updated_at"
# Colour order for "never lower by command": red above yellow above green.
_SEVERITY = "(CASE {} WHEN 'red' THEN 2 WHEN 'yellow' THEN 1 ELSE 0 END)"

# $1 alert, $2 the revert's effective time, $3 now. ``attributed`` is each person whose
# current version was written by the alert; ``before`` their latest change of another origin.
_REVERT = f"""
WITH attributed AS (
    SELECT s.person_id, s.version
    FROM status.current_status AS s
    JOIN status.history AS h ON h.person_id = s.person_id AND h.version = s.version
    WHERE h.alert_id = $1 AND h.source = 'command'
),
restored AS (
    SELECT a.person_id, a.version,
           (b.colour IS NULL OR b.valid_until <= $3) AS lapsed, b.colour, b.reason, b.valid_until
    FROM attributed AS a
    LEFT JOIN LATERAL (
        SELECT p.colour, p.reason, p.valid_until FROM status.history AS p
        WHERE p.person_id = a.person_id AND p.version < a.version
          AND p.alert_id IS DISTINCT FROM $1
        ORDER BY p.version DESC LIMIT 1
    ) AS b ON true
)
UPDATE status.current_status AS s
SET colour = CASE WHEN r.lapsed THEN 'green' ELSE r.colour END,
    reason = CASE WHEN r.lapsed THEN 'none' ELSE r.reason END,
    valid_until = CASE WHEN r.lapsed THEN NULL ELSE r.valid_until END,
    version = s.version + 1,
    effective_at = GREATEST(s.effective_at, $2),
    updated_at = $3
FROM restored AS r
WHERE s.person_id = r.person_id AND s.version = r.version
RETURNING {", ".join("s." + c for c in STATUS_COLUMNS.split(", "))}
"""  # noqa: S608 - only the fixed column list is interpolated


def person_of(row: asyncpg.Record) -> Person:
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


def status_of(row: asyncpg.Record) -> StatusRecord:
    return StatusRecord(
        row["person_id"],
        row["colour"],
        row["reason"],
        row["version"],
        row["valid_until"],
        row["effective_at"],
        row["updated_at"],
    )


class Unit:
    """Writes in one transaction, which ``Store.unit`` or ``Store.event`` opened."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def stage(self, topic: str, key: bytes, events: Sequence[BaseModel]) -> outbox.Staged:
        """Put events in the outbox, to be sent once this unit committed (``shared.outbox``)."""
        return await outbox.stage(self._conn, SCHEMA, topic, key, events)

    # --- read models from registry events -------------------------------------------

    async def record_person(self, data: PersonRegisteredData, at: datetime) -> None:
        await self._conn.execute(
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

    async def link_guardian(self, guardian_id: UUID, person_id: UUID, relation: str, at: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO status.guardians (guardian_id, person_id, relation, linked_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            guardian_id,
            person_id,
            relation,
            at,
        )

    async def unlink_guardian(self, guardian_id: UUID, person_id: UUID) -> None:
        await self._conn.execute(
            "DELETE FROM status.guardians WHERE guardian_id = $1 AND person_id = $2", guardian_id, person_id
        )

    async def set_binding(self, person_id: UUID, venue_id: UUID, bound: bool, at: datetime) -> None:
        # Bound and unbound may arrive out of order: the later act wins.
        await self._conn.execute(
            "INSERT INTO status.inspector_bindings AS b (person_id, venue_id, bound, changed_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, venue_id) DO UPDATE"
            " SET bound = EXCLUDED.bound, changed_at = EXCLUDED.changed_at"
            " WHERE b.changed_at <= EXCLUDED.changed_at",
            person_id,
            venue_id,
            bound,
            at,
        )

    # --- status changes ---------------------------------------------------------------

    async def apply_change(self, change: Change, now: datetime, *, force: bool) -> StatusRecord | None:
        """Record a change and its history row; None when it is older than the current status.

        One upsert under the row lock decides: the version grows by one, and unless
        ``force`` (the authority acting now) a change whose act is not newer than the
        recorded one changes nothing, so a replayed or late command cannot win, and a
        command cannot lower a colour that is still in force.
        """
        row = await self._conn.fetchrow(
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
            f" RETURNING {STATUS_COLUMNS}",
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
        record = status_of(row)
        await self._history(
            record,
            now,
            change.source,
            set_by=change.set_by,
            source_query_id=change.source_query_id,
            note=change.note,
            alert_id=change.alert_id,
        )
        return record

    async def expire(self, person_id: UUID, version: int, now: datetime) -> StatusRecord | None:
        """Turn one expired colour green (at the moment it expired), unless it changed meanwhile."""
        row = await self._conn.fetchrow(
            "UPDATE status.current_status SET colour = 'green', reason = 'none',"  # noqa: S608 - fixed column list
            " version = version + 1, valid_until = NULL,"
            " effective_at = GREATEST(effective_at, valid_until), updated_at = valid_until"
            " WHERE person_id = $1 AND version = $2 AND valid_until <= $3 AND colour <> 'green'"
            f" RETURNING {STATUS_COLUMNS}",
            person_id,
            version,
            now,
        )
        if row is None:
            return None
        record = status_of(row)
        await self._history(record, now, Source.EXPIRY)
        return record

    async def _history(
        self,
        record: StatusRecord,
        now: datetime,
        source: Source,
        *,
        set_by: UUID | None = None,
        source_query_id: UUID | None = None,
        note: str | None = None,
        alert_id: UUID | None = None,
    ) -> None:
        await self._conn.execute(
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

    async def alert_withdrawn(self, alert_id: UUID) -> bool:
        return bool(
            await self._conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM status.withdrawn_alerts WHERE alert_id = $1)", alert_id
            )
        )

    async def revert_alert(
        self, alert_id: UUID, by: UUID, effective_at: datetime, now: datetime
    ) -> list[StatusRecord]:
        """Mark the alert withdrawn and restore everyone whose current status the alert set.

        A person whose latest change came from the alert gets back their last status from
        before it (green when they had none, or when it has expired since); anyone changed
        by something else since is left as they are. The version check in the UPDATE holds
        under concurrency: a row changed meanwhile no longer matches and stays.
        """
        await self._conn.execute(
            "INSERT INTO status.withdrawn_alerts (alert_id, withdrawn_by, withdrawn_at)"
            " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            alert_id,
            by,
            now,
        )
        records = [status_of(r) for r in await self._conn.fetch(_REVERT, alert_id, effective_at, now)]
        for record in records:
            await self._history(record, now, Source.REVERT, set_by=by, alert_id=alert_id)
        return records

    # --- paper codes -----------------------------------------------------------------

    async def next_paper_serial(self, person_id: UUID, issued_by: UUID, now: datetime) -> int:
        serial = await self._conn.fetchval(
            "INSERT INTO status.paper_codes AS p (person_id, serial, issued_at, issued_by)"
            " VALUES ($1, 1, $2, $3) ON CONFLICT (person_id) DO UPDATE"
            " SET serial = p.serial + 1, issued_at = EXCLUDED.issued_at, issued_by = EXCLUDED.issued_by"
            " RETURNING serial",
            person_id,
            now,
            issued_by,
        )
        return int(serial)

"""The SQL of venue alerts in the status schema: which alerts are withdrawn, and the revert."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

# The columns of a status record, as ``store._status`` reads them.
STATUS_COLUMNS = "person_id, colour, reason, version, valid_until, effective_at, updated_at"

# $1 alert, $2 the revert's effective time, $3 now. ``attributed`` is each person whose
# current version was written by the alert; ``before`` their latest change of another origin.
REVERT = f"""
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


async def mark_withdrawn(conn: asyncpg.Connection, alert_id: UUID, by: UUID, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO status.withdrawn_alerts (alert_id, withdrawn_by, withdrawn_at)"
        " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        alert_id,
        by,
        at,
    )


async def is_withdrawn(conn: asyncpg.Connection, alert_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM status.withdrawn_alerts WHERE alert_id = $1)", alert_id
        )
    )

"""The SQL of outbreak work: common exposures of many cases, and venue alerts with their reviews.

A visit has the same shape as in contact queries (``store_contacts.py``): it
starts at the check-in and ends at the dwell (the request's, else the venue's
typical stay, else 60 minutes; 720 at most) or at the check-out when that comes
sooner. Every scan of ``tracing.checkins`` carries constant bounds on
``checked_in_at`` so day partitions are pruned.
"""

# The statements are assembled from constants at import (no request data reaches
# the text; every value is a $n parameter), which S608 cannot tell apart.
# ruff: noqa: S608

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.tracing.models import (
    AlertPerson,
    AlertSummary,
    CaseTimelineVisit,
    ExposureAnalysis,
    SharedExposure,
    VenueAlert,
)
from services.tracing.store import MAX_DWELL_MINUTES
from services.tracing.store_contacts import _end

# The visits of many cases alive inside [from, to]. $1 cases, $2 from, $3 to, $4 dwell or
# NULL, $5 retention cutoff. The same generosity as a contact query's case visits: a visit
# that began up to 12 h before ``from`` and is still going at ``from`` counts.
_CASES_VISITS = f"""
    SELECT * FROM (
        SELECT c.person_id, c.venue_id, vc.name AS venue_name, c.checked_in_at, {_end("c", "$4")} AS ends_at
        FROM tracing.checkins AS c
        LEFT JOIN tracing.venues AS vc ON vc.venue_id = c.venue_id
        WHERE c.person_id = ANY($1::uuid[])
          AND c.checked_in_at >= GREATEST($2::timestamptz - make_interval(mins => {MAX_DWELL_MINUTES}),
                                          $5::timestamptz)
          AND c.checked_in_at <= $3::timestamptz
    ) AS v
    WHERE v.ends_at > $2::timestamptz AND v.ends_at > v.checked_in_at
"""

_TIMELINES = f"{_CASES_VISITS} ORDER BY v.person_id, v.checked_in_at, v.venue_id"

# Common exposures: per venue, the case visits in start order fall into islands (gaps and
# islands): a visit joins the island before it when it starts no later than the latest end
# so far plus the gap ($6 minutes), so overlapping visits, and visits at most the gap apart,
# share an island. An island that holds two or more different cases is a shared exposure.
_EXPOSURES = f"""
WITH visits AS ({_CASES_VISITS}),
marked AS (
    SELECT v.*,
           CASE WHEN v.checked_in_at <= max(v.ends_at) OVER (
                    PARTITION BY v.venue_id ORDER BY v.checked_in_at, v.ends_at, v.person_id
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + make_interval(mins => $6)
                THEN 0 ELSE 1 END AS opens
    FROM visits AS v
),
numbered AS (
    SELECT m.*, sum(m.opens) OVER (
               PARTITION BY m.venue_id ORDER BY m.checked_in_at, m.ends_at, m.person_id
               ROWS UNBOUNDED PRECEDING) AS island
    FROM marked AS m
)
SELECT n.venue_id, min(n.venue_name) AS venue_name, min(n.checked_in_at) AS starts_at,
       max(n.ends_at) AS ends_at, array_agg(DISTINCT n.person_id ORDER BY n.person_id) AS case_ids
FROM numbered AS n
GROUP BY n.venue_id, n.island
HAVING count(DISTINCT n.person_id) >= 2
ORDER BY count(DISTINCT n.person_id) DESC, min(n.checked_in_at), n.venue_id
"""


async def case_timelines(
    conn: asyncpg.Connection,
    cases: Sequence[UUID],
    *,
    from_at: datetime,
    to_at: datetime,
    dwell: int | None,
    cutoff: datetime,
) -> list[CaseTimelineVisit]:
    rows = await conn.fetch(_TIMELINES, list(cases), from_at, to_at, dwell, cutoff)
    return [CaseTimelineVisit(**dict(r)) for r in rows]


async def shared_exposures(
    conn: asyncpg.Connection,
    cases: Sequence[UUID],
    *,
    from_at: datetime,
    to_at: datetime,
    dwell: int | None,
    cutoff: datetime,
    gap_minutes: int,
) -> list[SharedExposure]:
    rows = await conn.fetch(_EXPOSURES, list(cases), from_at, to_at, dwell, cutoff, gap_minutes)
    return [SharedExposure(**dict(r)) for r in rows]


async def save_analysis(conn: asyncpg.Connection, analysis: ExposureAnalysis) -> None:
    await conn.execute(
        "INSERT INTO tracing.exposure_analyses (analysis_id, requested_by, case_ids, from_at, to_at,"
        " gap_minutes, dwell_minutes, answer, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)",
        analysis.analysis_id,
        analysis.requested_by,
        list(analysis.case_ids),
        analysis.from_at,
        analysis.to_at,
        analysis.gap_minutes,
        analysis.dwell_minutes,
        analysis.model_dump_json(include={"exposures", "timelines"}),
        analysis.created_at,
    )


async def load_analysis(conn: asyncpg.Connection, analysis_id: UUID) -> ExposureAnalysis | None:
    row = await conn.fetchrow("SELECT * FROM tracing.exposure_analyses WHERE analysis_id = $1", analysis_id)
    if row is None:
        return None
    answer: dict[str, Any] = json.loads(row["answer"])
    return ExposureAnalysis(
        analysis_id=row["analysis_id"],
        requested_by=row["requested_by"],
        case_ids=row["case_ids"],
        from_at=row["from_at"],
        to_at=row["to_at"],
        gap_minutes=row["gap_minutes"],
        dwell_minutes=row["dwell_minutes"],
        created_at=row["created_at"],
        **answer,
    )


async def delete_outbreak_work_before(conn: asyncpg.Connection, cutoff: datetime) -> int:
    """Analyses and alerts hold movements (who was where, when): they go with the check-ins
    they came from. An alert older than that can no longer be withdrawn (404)."""
    analyses = await conn.execute("DELETE FROM tracing.exposure_analyses WHERE created_at < $1", cutoff)
    alerts = await conn.execute("DELETE FROM tracing.venue_alerts WHERE created_at < $1", cutoff)
    return sum(int(status.rsplit(" ", 1)[-1]) for status in (analyses, alerts))


# --- venue alerts ---------------------------------------------------------------

# Everyone present at a venue during [from, to]: a visit (the contact rules' visit) that
# overlaps the window. $1 venue, $2 from, $3 to, $4 dwell or NULL, $5 retention cutoff.
# One row per person: their earliest such visit, with the masked name for the reviewer.
_PRESENT = f"""
SELECT DISTINCT ON (v.person_id) v.person_id, p.masked_name, v.checked_in_at, v.ends_at
FROM (
    SELECT c.person_id, c.checked_in_at, {_end("c", "$4")} AS ends_at
    FROM tracing.checkins AS c
    LEFT JOIN tracing.venues AS vc ON vc.venue_id = c.venue_id
    WHERE c.venue_id = $1
      AND c.checked_in_at >= GREATEST($2::timestamptz - make_interval(mins => {MAX_DWELL_MINUTES}),
                                      $5::timestamptz)
      AND c.checked_in_at < $3::timestamptz
) AS v
LEFT JOIN tracing.persons AS p ON p.person_id = v.person_id
WHERE v.ends_at > $2::timestamptz AND v.ends_at > v.checked_in_at
ORDER BY v.person_id, v.checked_in_at
"""


async def present_at(
    conn: asyncpg.Connection,
    venue_id: UUID,
    *,
    from_at: datetime,
    to_at: datetime,
    dwell: int | None,
    cutoff: datetime,
) -> list[AlertPerson]:
    rows = await conn.fetch(_PRESENT, venue_id, from_at, to_at, dwell, cutoff)
    return [AlertPerson(**dict(r)) for r in rows]


async def save_alert(conn: asyncpg.Connection, alert: VenueAlert) -> None:
    await conn.execute(
        "INSERT INTO tracing.venue_alerts (alert_id, venue_id, from_at, to_at, dwell_minutes, note, state,"
        " created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        alert.alert_id,
        alert.venue_id,
        alert.from_at,
        alert.to_at,
        alert.dwell_minutes,
        alert.note,
        alert.state,
        alert.created_by,
        alert.created_at,
    )
    await conn.copy_records_to_table(
        "venue_alert_people",
        schema_name="tracing",
        columns=("alert_id", "person_id", "checked_in_at", "ends_at"),
        records=[(alert.alert_id, p.person_id, p.checked_in_at, p.ends_at) for p in alert.people],
    )


async def load_alert(conn: asyncpg.Connection, alert_id: UUID, *, lock: bool = False) -> VenueAlert | None:
    """An alert with the people it found; ``lock`` holds its row until the transaction ends."""
    row = await conn.fetchrow(
        "SELECT a.*, v.name AS venue_name FROM tracing.venue_alerts AS a"
        " LEFT JOIN tracing.venues AS v ON v.venue_id = a.venue_id WHERE a.alert_id = $1"
        + (" FOR UPDATE OF a" if lock else ""),
        alert_id,
    )
    if row is None:
        return None
    people = await conn.fetch(
        "SELECT a.person_id, p.masked_name, a.checked_in_at, a.ends_at FROM tracing.venue_alert_people AS a"
        " LEFT JOIN tracing.persons AS p ON p.person_id = a.person_id"
        " WHERE a.alert_id = $1 ORDER BY a.checked_in_at, a.person_id",
        alert_id,
    )
    return VenueAlert(**dict(row), people=[AlertPerson(**dict(p)) for p in people])


async def alerts(conn: asyncpg.Connection, state: str | None, limit: int) -> list[AlertSummary]:
    """The latest alerts, newest first, in one state or in any."""
    rows = await conn.fetch(
        "SELECT a.alert_id, a.venue_id, v.name AS venue_name, a.from_at, a.to_at, a.state, a.created_by,"
        " a.created_at, (SELECT count(*) FROM tracing.venue_alert_people AS p"
        "  WHERE p.alert_id = a.alert_id) AS people_count"
        " FROM tracing.venue_alerts AS a LEFT JOIN tracing.venues AS v ON v.venue_id = a.venue_id"
        " WHERE $1::text IS NULL OR a.state = $1 ORDER BY a.created_at DESC, a.alert_id LIMIT $2",
        state,
        limit,
    )
    return [AlertSummary(**dict(r)) for r in rows]


async def approve_alert(conn: asyncpg.Connection, alert_id: UUID, by: UUID, at: datetime) -> None:
    await conn.execute(
        "UPDATE tracing.venue_alerts SET state = 'approved', approved_by = $2, approved_at = $3"
        " WHERE alert_id = $1",
        alert_id,
        by,
        at,
    )


async def withdraw_alert(conn: asyncpg.Connection, alert_id: UUID, by: UUID, at: datetime) -> None:
    await conn.execute(
        "UPDATE tracing.venue_alerts SET state = 'withdrawn', withdrawn_by = $2, withdrawn_at = $3"
        " WHERE alert_id = $1",
        alert_id,
        by,
        at,
    )


async def write_audits(
    conn: asyncpg.Connection,
    actor_id: UUID,
    action: str,
    subjects: Sequence[UUID],
    *,
    query_id: UUID,
    detail: dict[str, Any],
) -> None:
    """One audit row per person an act touched (``subject_id``), in one COPY."""
    text = json.dumps(detail)
    await conn.copy_records_to_table(
        "audit_log",
        schema_name="tracing",
        columns=("actor_id", "action", "query_id", "subject_id", "count", "detail"),
        records=[(actor_id, action, query_id, s, 1, text) for s in subjects],
    )

"""The SQL of venue alerts: everyone present at a venue in a window, kept for review and approval."""

# The statements are assembled from constants at import (no request data reaches
# the text; every value is a $n parameter), which S608 cannot tell apart.
# ruff: noqa: S608

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.tracing.models_outbreaks import AlertPerson, AlertState, AlertSummary, VenueAlert, VisitWindow
from services.tracing.store_base import MAX_DWELL_MINUTES, Connections, affected, visit_end

# Everyone present at a venue during [from, to]: a visit (the contact rules' visit) that
# overlaps the window. $1 venue, $2 from, $3 to, $4 dwell or NULL, $5 retention cutoff.
# One row per person: their earliest such visit, with the masked name for the reviewer.
_PRESENT = f"""
SELECT DISTINCT ON (v.person_id) v.person_id, p.masked_name, v.checked_in_at, v.ends_at
FROM (
    SELECT c.person_id, c.checked_in_at, {visit_end("c", "$4")} AS ends_at
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


class AlertStore:
    """Venue alerts with the people each found; a state change is a unit of work's (``Store.unit``)."""

    def __init__(self, db: Connections) -> None:
        self._db = db

    async def present_at(self, venue_id: UUID, w: VisitWindow) -> list[AlertPerson]:
        async with self._db() as conn:
            rows = await conn.fetch(_PRESENT, venue_id, w.from_at, w.to_at, w.dwell, w.cutoff)
        return [AlertPerson(**dict(r)) for r in rows]

    async def save(self, alert: VenueAlert) -> None:
        async with self._db() as conn:
            await conn.execute(
                "INSERT INTO tracing.venue_alerts (alert_id, venue_id, from_at, to_at, dwell_minutes, note,"
                " state, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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

    async def load(self, alert_id: UUID, *, lock: bool = False) -> VenueAlert | None:
        """An alert with the people it found; ``lock`` holds its row until the unit of work ends."""
        async with self._db() as conn:
            row = await conn.fetchrow(
                "SELECT a.*, v.name AS venue_name FROM tracing.venue_alerts AS a"
                " LEFT JOIN tracing.venues AS v ON v.venue_id = a.venue_id WHERE a.alert_id = $1"
                + (" FOR UPDATE OF a" if lock else ""),
                alert_id,
            )
            if row is None:
                return None
            people = await conn.fetch(
                "SELECT a.person_id, p.masked_name, a.checked_in_at, a.ends_at"
                " FROM tracing.venue_alert_people AS a"
                " LEFT JOIN tracing.persons AS p ON p.person_id = a.person_id"
                " WHERE a.alert_id = $1 ORDER BY a.checked_in_at, a.person_id",
                alert_id,
            )
        return VenueAlert(**dict(row), people=[AlertPerson(**dict(p)) for p in people])

    async def latest(self, state: AlertState | None, limit: int) -> list[AlertSummary]:
        """The latest alerts, newest first, in one state or in any."""
        async with self._db() as conn:
            rows = await conn.fetch(
                "SELECT a.alert_id, a.venue_id, v.name AS venue_name, a.from_at, a.to_at, a.state,"
                " a.created_by, a.created_at, (SELECT count(*) FROM tracing.venue_alert_people AS p"
                "  WHERE p.alert_id = a.alert_id) AS people_count"
                " FROM tracing.venue_alerts AS a LEFT JOIN tracing.venues AS v ON v.venue_id = a.venue_id"
                " WHERE $1::text IS NULL OR a.state = $1 ORDER BY a.created_at DESC, a.alert_id LIMIT $2",
                state,
                limit,
            )
        return [AlertSummary(**dict(r)) for r in rows]

    async def approve(self, alert_id: UUID, by: UUID, at: datetime) -> None:
        async with self._db() as conn:
            await conn.execute(
                "UPDATE tracing.venue_alerts SET state = 'approved', approved_by = $2, approved_at = $3"
                " WHERE alert_id = $1",
                alert_id,
                by,
                at,
            )

    async def withdraw(self, alert_id: UUID, by: UUID, at: datetime) -> None:
        async with self._db() as conn:
            await conn.execute(
                "UPDATE tracing.venue_alerts SET state = 'withdrawn', withdrawn_by = $2, withdrawn_at = $3"
                " WHERE alert_id = $1",
                alert_id,
                by,
                at,
            )

    async def delete_before(self, cutoff: datetime) -> int:
        """Alerts hold movements too: they go with the check-ins they came from. An alert older
        than that can no longer be withdrawn (404)."""
        async with self._db() as conn:
            return affected(
                await conn.execute("DELETE FROM tracing.venue_alerts WHERE created_at < $1", cutoff)
            )

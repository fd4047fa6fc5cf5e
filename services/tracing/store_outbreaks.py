"""The SQL of outbreak work: common exposures of many cases, with their timelines, kept as analyses.

A visit has the same shape as in contact queries (``store_base.visit_end``): it
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

from services.tracing.models_outbreaks import CaseTimelineVisit, ExposureAnalysis, SharedExposure, VisitWindow
from services.tracing.store_base import MAX_DWELL_MINUTES, Connections, affected
from services.tracing.store_base import visit_end as _end  # the statements' lines stay as they were

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


class OutbreakStore:
    """Exposure analyses: the statements that compare many cases' visits, and the analyses kept."""

    def __init__(self, db: Connections) -> None:
        self._db = db

    async def case_timelines(self, cases: Sequence[UUID], w: VisitWindow) -> list[CaseTimelineVisit]:
        async with self._db() as conn:
            rows = await conn.fetch(_TIMELINES, list(cases), w.from_at, w.to_at, w.dwell, w.cutoff)
        return [CaseTimelineVisit(**dict(r)) for r in rows]

    async def shared_exposures(
        self, cases: Sequence[UUID], w: VisitWindow, *, gap_minutes: int
    ) -> list[SharedExposure]:
        async with self._db() as conn:
            rows = await conn.fetch(
                _EXPOSURES, list(cases), w.from_at, w.to_at, w.dwell, w.cutoff, gap_minutes
            )
        return [SharedExposure(**dict(r)) for r in rows]

    async def save_analysis(self, analysis: ExposureAnalysis) -> None:
        async with self._db() as conn:
            await conn.execute(
                "INSERT INTO tracing.exposure_analyses (analysis_id, requested_by, case_ids, from_at, to_at,"
                " gap_minutes, dwell_minutes, answer, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)",
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

    async def load_analysis(self, analysis_id: UUID) -> ExposureAnalysis | None:
        async with self._db() as conn:
            row = await conn.fetchrow(
                "SELECT * FROM tracing.exposure_analyses WHERE analysis_id = $1", analysis_id
            )
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

    async def delete_analyses_before(self, cutoff: datetime) -> int:
        """Analyses hold movements (who was where, when): they go with the check-ins they came from."""
        async with self._db() as conn:
            return affected(
                await conn.execute("DELETE FROM tracing.exposure_analyses WHERE created_at < $1", cutoff)
            )

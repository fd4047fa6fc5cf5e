"""The rules of outbreak work beyond one case: common exposures of many cases, audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from services.tracing import store, store_outbreaks
from services.tracing.models import AuditAction, ExposureAnalysis
from services.tracing.service import Clock, utcnow
from shared.errors import InvalidValue, NotFound
from shared.ids import uuid7

# The bounds: an analysis compares at least two cases, and 500 is the largest
# cluster an investigation team reviews in one picture.
MIN_CASES, MAX_CASES = 2, 500


@dataclass(frozen=True)
class Retention:
    """How long tracing keeps check-ins, read on the service's clock: what a window may span."""

    days: int
    clock: Clock = utcnow

    def now(self) -> datetime:
        return self.clock()

    def cutoff(self) -> datetime:
        """Nothing that checked in before this instant is read."""
        return self.clock() - timedelta(days=self.days)

    def check_window(self, from_at: datetime, to_at: datetime) -> None:
        if from_at >= to_at:
            raise InvalidValue("to", "must be later than from")
        if to_at - from_at > timedelta(days=self.days):
            raise InvalidValue("from", f"the window may span at most {self.days} days")


class OutbreakService:
    """Exposure analyses; the pool and the retention (with its clock) are injected."""

    def __init__(self, pool: asyncpg.Pool, retention: Retention) -> None:
        self._pool = pool
        self._retention = retention

    async def analyse(
        self,
        actor: UUID,
        case_ids: Sequence[UUID],
        from_at: datetime,
        to_at: datetime,
        *,
        gap_minutes: int,
        dwell_minutes: int | None,
    ) -> ExposureAnalysis:
        """The venue-windows two or more cases shared, ranked by how many; stored and audited."""
        cases = list(dict.fromkeys(case_ids))  # a case named twice is one case
        if not MIN_CASES <= len(cases) <= MAX_CASES:
            raise InvalidValue("person_ids", f"must name {MIN_CASES} to {MAX_CASES} different people")
        self._retention.check_window(from_at, to_at)
        cutoff = self._retention.cutoff()
        async with self._pool.acquire() as conn:
            exposures = await store_outbreaks.shared_exposures(
                conn,
                cases,
                from_at=from_at,
                to_at=to_at,
                dwell=dwell_minutes,
                cutoff=cutoff,
                gap_minutes=gap_minutes,
            )
            timelines = await store_outbreaks.case_timelines(
                conn, cases, from_at=from_at, to_at=to_at, dwell=dwell_minutes, cutoff=cutoff
            )
            analysis = ExposureAnalysis(
                analysis_id=uuid7(),
                requested_by=actor,
                case_ids=cases,
                from_at=from_at,
                to_at=to_at,
                gap_minutes=gap_minutes,
                dwell_minutes=dwell_minutes,
                exposures=exposures,
                timelines=timelines,
                created_at=self._retention.now(),
            )
            async with conn.transaction():
                await store_outbreaks.save_analysis(conn, analysis)
                await store.write_audit(
                    conn,
                    actor,
                    AuditAction.EXPOSURE_ANALYSIS,
                    len(exposures),
                    query_id=analysis.analysis_id,
                    detail={"cases": len(cases), "gap_minutes": gap_minutes},
                )
        return analysis

    async def show(self, actor: UUID, analysis_id: UUID) -> ExposureAnalysis:
        """A stored analysis: a staff read of movements, so it is audited."""
        async with self._pool.acquire() as conn:
            analysis = await store_outbreaks.load_analysis(conn, analysis_id)
            if analysis is None:
                raise NotFound("No exposure analysis has this id.")
            await store.write_audit(
                conn, actor, AuditAction.EXPOSURE_VIEW, len(analysis.exposures), query_id=analysis_id
            )
        return analysis

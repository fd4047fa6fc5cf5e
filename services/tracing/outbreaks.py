"""The rules of outbreak work beyond one case: common exposures of many cases, audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from services.tracing import store, store_contacts, store_outbreaks
from services.tracing.models import (
    AuditAction,
    Contact,
    ExposureAnalysis,
    GraphEdge,
    GraphNode,
    OutbreakGraph,
    QueryParameters,
)
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

    async def show(
        self, actor: UUID, analysis_id: UUID, *, action: AuditAction = AuditAction.EXPOSURE_VIEW
    ) -> ExposureAnalysis:
        """A stored analysis: a staff read of movements, so it is audited (as a view or an export)."""
        async with self._pool.acquire() as conn:
            analysis = await store_outbreaks.load_analysis(conn, analysis_id)
            if analysis is None:
                raise NotFound("No exposure analysis has this id.")
            await store.write_audit(conn, actor, action, len(analysis.exposures), query_id=analysis_id)
        return analysis

    async def graph(self, actor: UUID, analysis_id: UUID) -> OutbreakGraph:
        """The depth-2 contact graph of an analysis's cases, over its window, as of now.

        One depth-2 contact query per case (the contact rules of API.md, one minute of
        overlap); a person is a node once, at the smallest depth any case reached them, and
        a pair (who carried it, who met them) is one edge, at its largest overlap, as graph
        tools expect. Audited, like the contact queries it runs.
        """
        analysis = await self.show(actor, analysis_id, action=AuditAction.OUTBREAK_GRAPH)
        cutoff = self._retention.cutoff()
        depth = dict.fromkeys(analysis.case_ids, 0)
        edges: dict[tuple[UUID, UUID], GraphEdge] = {}
        async with self._pool.acquire() as conn:
            for case in analysis.case_ids:
                params = QueryParameters(
                    person_id=case,
                    from_at=analysis.from_at,
                    to_at=analysis.to_at,
                    dwell_minutes=analysis.dwell_minutes,
                    min_overlap_minutes=1,
                    depth=2,
                )
                first = await store_contacts.contacts_depth_1(conn, params, cutoff)
                second = await store_contacts.contacts_depth_2(conn, params, first, cutoff)
                for contact in [*first, *second]:
                    depth[contact.person_id] = min(depth.get(contact.person_id, 2), contact.depth)
                    edge, pair = _edge(contact), (contact.via_person_id, contact.person_id)
                    if pair not in edges or edges[pair].overlap_minutes < edge.overlap_minutes:
                        edges[pair] = edge
        nodes = [GraphNode(person_id=p, depth=d) for p, d in depth.items()]
        return OutbreakGraph(analysis_id=analysis_id, nodes=nodes, edges=list(edges.values()))


def _edge(contact: Contact) -> GraphEdge:
    return GraphEdge(
        source=contact.via_person_id,
        target=contact.person_id,
        venue_id=contact.venue_id,
        venue_name=contact.venue_name,
        checked_in_at=contact.contact_checked_in_at,
        overlap_minutes=contact.overlap_minutes,
        depth=contact.depth,
    )

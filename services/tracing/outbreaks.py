"""The rules of outbreak work beyond one case: common exposures of many cases, audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from services.tracing.errors import AnalysisNotFound
from services.tracing.models import AuditAction, Contact, QueryParameters
from services.tracing.models_outbreaks import (
    MAX_CASES,
    MIN_CASES,
    ExposureAnalysis,
    GraphEdge,
    GraphNode,
    OutbreakGraph,
    VisitWindow,
)
from services.tracing.retention import Retention
from services.tracing.store import Store
from shared.errors import InvalidValue
from shared.ids import uuid7


class OutbreakService:
    """Exposure analyses; the store and the retention (with its clock) are given."""

    def __init__(self, store: Store, retention: Retention) -> None:
        self._store = store
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
        window = VisitWindow(from_at, to_at, dwell_minutes, self._retention.cutoff())
        exposures = await self._store.outbreaks.shared_exposures(cases, window, gap_minutes=gap_minutes)
        timelines = await self._store.outbreaks.case_timelines(cases, window)
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
        async with self._store.unit() as unit:
            await unit.outbreaks.save_analysis(analysis)
            await unit.audit.write(
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
        analysis = await self._store.outbreaks.load_analysis(analysis_id)
        if analysis is None:
            raise AnalysisNotFound()
        await self._store.audit.write(actor, action, len(analysis.exposures), query_id=analysis_id)
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
        contacts = self._store.contacts
        for case in analysis.case_ids:
            params = QueryParameters(
                person_id=case,
                from_at=analysis.from_at,
                to_at=analysis.to_at,
                dwell_minutes=analysis.dwell_minutes,
                min_overlap_minutes=1,
                depth=2,
            )
            first = await contacts.contacts_depth_1(params, cutoff)
            second = await contacts.contacts_depth_2(params, first, cutoff)
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

"""Models of outbreak work: exposure analyses, their graph and venue alerts, as the store returns
them and as the routes (``api_outbreaks.py``, ``api_alerts.py``) take and answer them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.tracing.models import Row

# The bounds: an analysis compares at least two cases, and 500 is the largest
# cluster an investigation team reviews in one picture.
MIN_CASES, MAX_CASES = 2, 500


@dataclass(frozen=True)
class VisitWindow:
    """Which visits a statement of outbreak work reads: those alive inside [from_at, to_at], each
    lasting ``dwell`` minutes (else the venue's typical stay), none checked in before ``cutoff``."""

    from_at: datetime
    to_at: datetime
    dwell: int | None
    cutoff: datetime


# --- rows (store_outbreaks.py, store_alerts.py) -------------------------------------


class CaseTimelineVisit(Row):
    """One visit of one case of an exposure analysis, alive inside its window."""

    person_id: UUID
    venue_id: UUID
    venue_name: str | None
    checked_in_at: datetime
    ends_at: datetime


class SharedExposure(Row):
    """A venue-window that two or more cases shared: their visits overlap or lie within the gap."""

    venue_id: UUID
    venue_name: str | None
    starts_at: datetime
    ends_at: datetime
    case_ids: list[UUID]


class ExposureAnalysis(Row):
    analysis_id: UUID
    requested_by: UUID
    case_ids: list[UUID]
    from_at: datetime
    to_at: datetime
    gap_minutes: int
    dwell_minutes: int | None
    exposures: list[SharedExposure]
    timelines: list[CaseTimelineVisit]
    created_at: datetime


class GraphNode(Row):
    """A person of an outbreak's contact graph: a case (depth 0) or a contact of depth 1 or 2."""

    person_id: UUID
    depth: int


class GraphEdge(Row):
    """Who met whom: ``source`` (a case, or a depth-1 contact) met ``target`` at a venue."""

    source: UUID
    target: UUID
    venue_id: UUID
    venue_name: str | None
    checked_in_at: datetime  # the target's check-in at the venue where they met
    overlap_minutes: float
    depth: int


class OutbreakGraph(Row):
    analysis_id: UUID
    nodes: list[GraphNode]
    edges: list[GraphEdge]


AlertState = Literal["pending", "approved", "withdrawn"]


class AlertPerson(Row):
    """Someone a venue alert found present, at their earliest visit overlapping its window."""

    person_id: UUID
    masked_name: str | None = None
    checked_in_at: datetime
    ends_at: datetime


class AlertSummary(Row):
    """A venue alert without its people: what a reviewer's list shows."""

    alert_id: UUID
    venue_id: UUID
    venue_name: str | None = None
    from_at: datetime
    to_at: datetime
    state: AlertState
    created_by: UUID
    created_at: datetime
    people_count: int


class VenueAlert(Row):
    alert_id: UUID
    venue_id: UUID
    venue_name: str | None = None
    from_at: datetime
    to_at: datetime
    dwell_minutes: int | None
    note: str | None
    state: AlertState
    created_by: UUID
    created_at: datetime
    approved_by: UUID | None = None
    approved_at: datetime | None = None
    withdrawn_by: UUID | None = None
    withdrawn_at: datetime | None = None
    people: list[AlertPerson]


# --- exposure analyses: requests and answers ------------------------------------------


class ExposureAnalysisIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    person_ids: list[UUID] = Field(min_length=MIN_CASES, max_length=MAX_CASES)
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    # Minutes between one case leaving and another arriving that still count as shared
    # (surfaces, air); 12 hours at most, like a visit.
    gap_minutes: int = Field(default=0, ge=0, le=720)
    dwell_minutes: int | None = Field(default=None, ge=1, le=720)


class ExposureOut(BaseModel):
    venue_id: UUID
    venue_name: str | None
    starts_at: datetime
    ends_at: datetime
    case_count: int
    person_ids: list[UUID]


class TimelineVisitOut(BaseModel):
    venue_id: UUID
    venue_name: str | None
    checked_in_at: datetime
    ends_at: datetime


class CaseTimelineOut(BaseModel):
    person_id: UUID
    visits: list[TimelineVisitOut]


class ExposureAnalysisOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    analysis_id: UUID
    requested_by: UUID
    person_ids: list[UUID]
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    gap_minutes: int
    dwell_minutes: int | None
    created_at: datetime
    exposures: list[ExposureOut] = Field(description="ranked: most cases first, then earliest")
    timelines: list[CaseTimelineOut] = Field(description="every case, with its visits in the window")

    @classmethod
    def of(cls, a: ExposureAnalysis) -> ExposureAnalysisOut:
        by_case: dict[UUID, list[TimelineVisitOut]] = {case: [] for case in a.case_ids}
        for v in a.timelines:
            by_case[v.person_id].append(TimelineVisitOut(**v.model_dump(exclude={"person_id"})))
        return cls(
            analysis_id=a.analysis_id,
            requested_by=a.requested_by,
            person_ids=a.case_ids,
            from_=a.from_at,
            to=a.to_at,
            gap_minutes=a.gap_minutes,
            dwell_minutes=a.dwell_minutes,
            created_at=a.created_at,
            exposures=[
                ExposureOut(
                    **e.model_dump(exclude={"case_ids"}), case_count=len(e.case_ids), person_ids=e.case_ids
                )
                for e in a.exposures
            ],
            timelines=[CaseTimelineOut(person_id=case, visits=visits) for case, visits in by_case.items()],
        )


class GraphNodeOut(BaseModel):
    person_id: UUID
    depth: int = Field(description="0 for a case, 1 or 2 for a contact")


class GraphEdgeOut(BaseModel):
    source: UUID
    target: UUID
    venue_id: UUID
    venue_name: str | None
    checked_in_at: datetime
    overlap_minutes: float
    depth: int


class OutbreakGraphOut(BaseModel):
    analysis_id: UUID
    nodes: list[GraphNodeOut]
    edges: list[GraphEdgeOut]

    @classmethod
    def of(cls, g: OutbreakGraph) -> OutbreakGraphOut:
        return cls.model_validate(g.model_dump())


# --- venue alerts: requests and answers -----------------------------------------------


class VenueAlertIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    venue_id: UUID
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    dwell_minutes: int | None = Field(default=None, ge=1, le=720)
    note: str | None = Field(default=None, max_length=500)


class AlertPersonOut(BaseModel):
    person_id: UUID
    masked_name: str | None
    checked_in_at: datetime
    ends_at: datetime


class VenueAlertOut(BaseModel):
    alert_id: UUID
    venue_id: UUID
    venue_name: str | None
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    dwell_minutes: int | None
    note: str | None
    state: AlertState
    colour: Literal["yellow"] = "yellow"
    reason: Literal["risk_area_visit"] = "risk_area_visit"
    created_by: UUID
    created_at: datetime
    approved_by: UUID | None
    approved_at: datetime | None
    withdrawn_by: UUID | None
    withdrawn_at: datetime | None
    people_count: int
    people: list[AlertPersonOut] = Field(description="everyone present, as found when the alert was made")

    @classmethod
    def of(cls, a: VenueAlert) -> VenueAlertOut:
        fields = a.model_dump(exclude={"from_at", "to_at", "people"})
        people = [AlertPersonOut(**p.model_dump()) for p in a.people]
        return cls(**fields, from_=a.from_at, to=a.to_at, people_count=len(people), people=people)


class AlertSummaryOut(BaseModel):
    alert_id: UUID
    venue_id: UUID
    venue_name: str | None
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    state: AlertState
    created_by: UUID
    created_at: datetime
    people_count: int


class AlertListOut(BaseModel):
    alerts: list[AlertSummaryOut] = Field(description="the latest 200, newest first")

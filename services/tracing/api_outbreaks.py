"""HTTP routes of outbreak work: exposure analyses (and their exports); thin, like api.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.tracing.api import Epidemiologist
from services.tracing.models import ExposureAnalysis
from services.tracing.outbreaks import MAX_CASES, MIN_CASES, OutbreakService
from shared.errors import NotFound

router = APIRouter(prefix="/api/tracing/v1", tags=["tracing: outbreaks"])


async def _outbreaks(request: Request) -> OutbreakService:  # async: no thread hop (shared/auth.py)
    service: OutbreakService = request.app.state.outbreaks
    return service


Outbreaks = Annotated[OutbreakService, Depends(_outbreaks)]


def analysis_key(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError as exc:
        raise NotFound("No exposure analysis has this id.") from exc


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


@router.post(
    "/exposure-analyses",
    status_code=201,
    response_model=ExposureAnalysisOut,
    response_model_by_alias=True,
)
async def analyse_exposures(
    body: ExposureAnalysisIn, who: Epidemiologist, outbreaks: Outbreaks
) -> ExposureAnalysisOut:
    analysis = await outbreaks.analyse(
        who.person_id,
        body.person_ids,
        body.from_,
        body.to,
        gap_minutes=body.gap_minutes,
        dwell_minutes=body.dwell_minutes,
    )
    return ExposureAnalysisOut.of(analysis)


@router.get(
    "/exposure-analyses/{analysis_id}", response_model=ExposureAnalysisOut, response_model_by_alias=True
)
async def show_exposure_analysis(
    analysis_id: str, who: Epidemiologist, outbreaks: Outbreaks
) -> ExposureAnalysisOut:
    return ExposureAnalysisOut.of(await outbreaks.show(who.person_id, analysis_key(analysis_id)))

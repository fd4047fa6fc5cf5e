"""HTTP routes of the checkin service: parse, authorise, call the service, answer a response model."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response

from services.checkin.models import (
    CheckinAnswer,
    Checkout,
    CheckoutAnswer,
    CheckoutRequest,
    CheckoutsAnswer,
    ClosedVenueAnswer,
    InspectionAnswer,
    InspectionRequest,
    PeopleAnswer,
    PersonAnswer,
    ScanAnswer,
    ScanRequest,
    ScanResult,
    VenueAnswer,
)
from services.checkin.services import ServicesDep
from shared.auth import CurrentPrincipal
from shared.errors import Malformed, problems
from shared.i18n import Language, language_of

# Every route may refuse a value (422) or lose a dependency (503); each adds what else it answers.
router = APIRouter(prefix="/api/checkin/v1", tags=["checkin"], responses=problems(422, 503))
BODY = (400, 413)  # a JSON body (or a required header): malformed or too large
REPLAYED: dict[int | str, Any] = {
    200: {"description": "The same Idempotency-Key again: the first answer, nothing new"}
}

# Idempotency keys are client-made (a UUID in our pages); 100 characters leaves room for others.
MAX_IDEMPOTENCY_KEY = 100


def scan_answer(result: ScanResult, language: Language) -> ScanAnswer:
    return ScanAnswer(
        venue=VenueAnswer(venue_id=result.venue.venue_id, name=result.venue.name),
        checkins=[CheckinAnswer.of(c, language) for c in result.checkins],
    )


def checkouts_answer(checkouts: list[Checkout]) -> list[CheckoutAnswer]:
    return [CheckoutAnswer(person_id=c.person_id, checked_out_at=c.checked_out_at) for c in checkouts]


def _idempotency_key(value: str | None) -> str:
    if value is None or not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY or not value.isprintable():
        raise Malformed(f"An Idempotency-Key header of 1 to {MAX_IDEMPOTENCY_KEY} characters is required.")
    return value


@router.post(
    "/scans",
    status_code=201,
    summary="Check in at a venue (self and family)",
    responses=problems(*BODY, 401, 403, 404, 409, 410, 429) | REPLAYED,
)
async def scan(
    body: ScanRequest,
    request: Request,
    response: Response,
    *,
    principal: CurrentPrincipal,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> ScanAnswer:
    key = _idempotency_key(idempotency_key)
    outcome = await services.scans.scan(
        principal.person_id,
        key,
        body.venue_token,
        body.person_ids,
        body.temperature_band,
        scanned_at=body.scanned_at,
    )
    if outcome.replayed:
        response.status_code = 200
    return scan_answer(outcome.result, language_of(request))


@router.post(
    "/checkouts",
    status_code=201,
    summary="Leave a venue (self and family)",
    responses=problems(*BODY, 401, 403, 404, 410),
)
async def checkout(
    body: CheckoutRequest, principal: CurrentPrincipal, services: ServicesDep
) -> CheckoutsAnswer:
    checkouts = await services.scans.check_out(principal.person_id, body.venue_token, body.person_ids)
    return CheckoutsAnswer(checkouts=checkouts_answer(checkouts))


@router.post(
    "/venues/{venue_id}/close",
    status_code=202,
    summary="Check everyone still inside out",
    responses=problems(401, 403, 404),
)
async def close_venue(
    venue_id: UUID, principal: CurrentPrincipal, services: ServicesDep
) -> ClosedVenueAnswer:
    checkouts = await services.scans.close_venue(principal.person_id, venue_id)
    return ClosedVenueAnswer(venue_id=venue_id, checkouts=checkouts_answer(checkouts))


@router.post(
    "/inspections",
    status_code=201,
    summary="Inspector reverse scan of a health code",
    responses=problems(*BODY, 401, 403, 404, 409, 410, 429),
)
async def inspection(
    body: InspectionRequest, request: Request, principal: CurrentPrincipal, services: ServicesDep
) -> InspectionAnswer:
    recorded = await services.scans.inspect(
        principal.person_id, body.venue_id, body.health_code_token, body.temperature_band
    )
    return InspectionAnswer.of(recorded, language_of(request))


@router.get(
    "/me/people",
    summary="The caller and their dependents, for ticking on the scan page",
    responses=problems(401),
)
async def my_people(principal: CurrentPrincipal, services: ServicesDep) -> PeopleAnswer:
    people = await services.scans.people_of(principal.person_id)
    return PeopleAnswer(
        people=[
            PersonAnswer(
                person_id=p.person_id,
                masked_name=p.masked_name,
                is_self=p.person_id == principal.person_id,
                relation=p.relation,
            )
            for p in people
        ]
    )

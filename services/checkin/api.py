"""HTTP routes of the checkin service: parse, authorise, call the service, answer."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.checkin.models import Checkout, RecordedCheckin
from services.checkin.service import CheckinService, ScanResult
from shared.auth import CurrentPrincipal
from shared.errors import Malformed, problems
from shared.events import TemperatureBand
from shared.i18n import Language, language_of, reason_text

# Every route may refuse a value (422) or lose a dependency (503); each adds what else it answers.
router = APIRouter(prefix="/api/checkin/v1", tags=["checkin"], responses=problems(422, 503))
BODY = (400, 413)  # a JSON body (or a required header): malformed or too large
REPLAYED: dict[int | str, Any] = {
    200: {"description": "The same Idempotency-Key again: the first answer, nothing new"}
}

# A household with its elderly and children fits; a larger group is a tour, which inspectors scan.
MAX_GROUP = 20
# Idempotency keys are client-made (a UUID in our pages); 100 characters leaves room for others.
MAX_IDEMPOTENCY_KEY = 100
# Tokens are ~150 base32 characters (shared.tokens); anything far longer is not one.
MAX_TOKEN = 200


async def _service(request: Request) -> CheckinService:  # async: no thread hop (shared/auth.py)
    service: CheckinService = request.app.state.service
    return service


Service = Annotated[CheckinService, Depends(_service)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScanRequest(_Body):
    venue_token: str = Field(min_length=1, max_length=MAX_TOKEN)
    person_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=MAX_GROUP)
    temperature_band: TemperatureBand | None = None
    # An addition to API.md: when the phone scanned (RFC 3339 with offset). The page sends
    # the same value on every attempt, so a retry is stored at the first attempt's time even
    # when checkin's Redis was down; trusted within 24 h back and 2 min ahead (scantime.py).
    scanned_at: AwareDatetime | None = Field(
        default=None,
        description="When the phone scanned; the same on every attempt of one scan. Used as"
        " checked_in_at (to the millisecond) within 24 h back and 2 min ahead of the server's clock.",
    )


class CheckoutRequest(_Body):
    venue_token: str = Field(min_length=1, max_length=MAX_TOKEN)
    person_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=MAX_GROUP)


class InspectionRequest(_Body):
    venue_id: UUID
    health_code_token: str = Field(min_length=1, max_length=MAX_TOKEN)
    temperature_band: TemperatureBand
    # An addition to API.md (issue 16): a fever is never recorded by a slip of the finger.
    fever_acknowledged: bool = Field(
        default=False,
        description="The inspector saw the fever warning and confirms the entry anyway (the venue's"
        " own fever procedure applies). Required true when temperature_band is fever: 422 otherwise.",
    )


class InspectorVenueOut(BaseModel):
    venue_id: UUID
    name: str


class InspectorVenuesOut(BaseModel):
    venues: list[InspectorVenueOut]


def checkin_json(checkin: RecordedCheckin, language: Language, masked_id: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "checkin_id": str(checkin.checkin_id),
        "person_id": str(checkin.person_id),
        "masked_name": checkin.masked_name,
    }
    if masked_id:
        body["masked_id"] = checkin.masked_id
    body |= {
        "colour": checkin.colour,
        "reason": checkin.reason,
        "reason_text": reason_text(checkin.reason, language),
        "checked_in_at": checkin.checked_in_at.isoformat(),
    }
    return body


def scan_json(result: ScanResult, language: Language) -> dict[str, Any]:
    return {
        "venue": {"venue_id": str(result.venue.venue_id), "name": result.venue.name},
        "checkins": [checkin_json(c, language) for c in result.checkins],
    }


def checkouts_json(checkouts: list[Checkout]) -> dict[str, Any]:
    return {
        "checkouts": [
            {"person_id": str(c.person_id), "checked_out_at": c.checked_out_at.isoformat()} for c in checkouts
        ]
    }


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
    principal: CurrentPrincipal,
    service: Service,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    key = _idempotency_key(idempotency_key)
    outcome = await service.scan(
        principal.person_id,
        key,
        body.venue_token,
        body.person_ids,
        body.temperature_band,
        scanned_at=body.scanned_at,
    )
    status = 200 if outcome.replayed else 201
    return JSONResponse(scan_json(outcome.result, language_of(request)), status_code=status)


@router.post(
    "/checkouts",
    status_code=201,
    summary="Leave a venue (self and family)",
    responses=problems(*BODY, 401, 403, 404, 410),
)
async def checkout(body: CheckoutRequest, principal: CurrentPrincipal, service: Service) -> JSONResponse:
    checkouts = await service.check_out(principal.person_id, body.venue_token, body.person_ids)
    return JSONResponse(checkouts_json(checkouts), status_code=201)


@router.post(
    "/venues/{venue_id}/close",
    status_code=202,
    summary="Check everyone still inside out",
    responses=problems(401, 403, 404),
)
async def close_venue(venue_id: UUID, principal: CurrentPrincipal, service: Service) -> JSONResponse:
    checkouts = await service.close_venue(principal.person_id, venue_id)
    return JSONResponse({"venue_id": str(venue_id), **checkouts_json(checkouts)}, status_code=202)


@router.post(
    "/inspections",
    status_code=201,
    summary="Inspector reverse scan of a health code",
    responses=problems(*BODY, 401, 403, 404, 409, 410, 429),
)
async def inspection(
    body: InspectionRequest, request: Request, principal: CurrentPrincipal, service: Service
) -> JSONResponse:
    recorded = await service.inspect(
        principal.person_id,
        body.venue_id,
        body.health_code_token,
        body.temperature_band,
        fever_acknowledged=body.fever_acknowledged,
    )
    return JSONResponse(checkin_json(recorded, language_of(request), masked_id=True), status_code=201)


@router.get(
    "/me/people",
    summary="The caller and their dependents, for ticking on the scan page",
    responses=problems(401),
)
async def my_people(principal: CurrentPrincipal, service: Service) -> dict[str, Any]:
    people = await service.people_of(principal.person_id)
    return {
        "people": [
            {
                "person_id": str(p.person_id),
                "masked_name": p.masked_name,
                "self": p.person_id == principal.person_id,
                "relation": p.relation,
            }
            for p in people
        ]
    }


@router.get(
    "/me/inspector-venues",
    summary="The venues the caller inspects, for the assisted lookup's one-step entry",
    response_model=InspectorVenuesOut,
    responses=problems(401),
)
async def my_inspector_venues(principal: CurrentPrincipal, service: Service) -> InspectorVenuesOut:
    venues = await service.inspector_venues(principal.person_id)
    return InspectorVenuesOut(venues=[InspectorVenueOut(venue_id=v.venue_id, name=v.name) for v in venues])

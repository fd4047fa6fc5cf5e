"""HTTP routes of the tracing service: parse, authorise, call the service, answer."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.tracing.models import ContactQueryResult, QueryParameters
from services.tracing.service import TracingService
from shared.auth import CurrentPrincipal, Principal, require_role
from shared.errors import InvalidValue, NotFound, problems
from shared.events import Colour, IdKind

# Every route may refuse a value (422) or lose a dependency (503); each adds what else it answers.
router = APIRouter(prefix="/api/tracing/v1", tags=["tracing"], responses=problems(422, 503))
BODY = (400, 413)  # a JSON body: malformed or too large

Epidemiologist = Annotated[Principal, Depends(require_role("epidemiologist"))]
Operator = Annotated[Principal, Depends(require_role("operator"))]
From = Annotated[str | None, Query(alias="from", description="RFC 3339 with offset")]
To = Annotated[str | None, Query(description="RFC 3339 with offset")]
# An unencoded "+01:00" in a query string arrives as " 01:00".
_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


def _instant(field: str, raw: str | None) -> datetime | None:
    """A query-string timestamp: RFC 3339 with an offset (or Z); None when absent."""
    if not raw:
        return None
    text = _SPACED_OFFSET.sub(r"+\1", raw.strip())
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidValue(field, "must be an RFC 3339 timestamp, e.g. 2026-11-25T10:00:00+08:00") from exc
    if value.tzinfo is None:
        raise InvalidValue(field, "needs a UTC offset, e.g. +08:00 or Z")
    return value


async def _service(request: Request) -> TracingService:  # async: no thread hop (shared/auth.py)
    service: TracingService = request.app.state.tracing
    return service


Service = Annotated[TracingService, Depends(_service)]


class ContactQueryIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    person_id: UUID
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    # 12 hours at most (API.md); a visit shorter than a minute is not a visit.
    dwell_minutes: int | None = Field(default=None, ge=1, le=720)
    min_overlap_minutes: int = Field(default=1, ge=1, le=720)
    depth: Literal[1, 2] = 1


class NotificationIn(BaseModel):
    colour: Colour
    reason: str = Field(min_length=1, max_length=64)


class PersonLookupIn(BaseModel):
    id_kind: IdKind
    id_number: str = Field(min_length=4, max_length=32)


class PausedIn(BaseModel):
    paused: bool


def _query_id(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError as exc:
        raise NotFound("No contact query has this id.") from exc


def _answer(result: ContactQueryResult) -> dict[str, Any]:
    p = result.parameters
    return {
        "query_id": result.query_id,
        "person_id": p.person_id,
        "from": p.from_at,
        "to": p.to_at,
        "dwell_minutes": p.dwell_minutes,
        "min_overlap_minutes": p.min_overlap_minutes,
        "depth": p.depth,
        "created_at": result.created_at,
        "requested_by": result.requested_by,
        "case_visits": [v.model_dump(mode="json") for v in result.case_visits],
        "contacts": [c.model_dump(mode="json", exclude={"met_at"}) for c in result.contacts],
    }


@router.get("/venues/{venue_id}/presence", responses=problems(401, 403, 404))
async def venue_presence(
    venue_id: UUID, who: Epidemiologist, service: Service, from_: From = None, to: To = None
) -> dict[str, Any]:
    rows = await service.presence(who.person_id, venue_id, _instant("from", from_), _instant("to", to))
    return {"venue_id": venue_id, "checkins": [r.model_dump(mode="json") for r in rows]}


@router.post("/person-lookups", responses=problems(*BODY, 401, 403, 404))
async def find_person(
    body: PersonLookupIn, request: Request, who: Epidemiologist, service: Service
) -> dict[str, Any]:
    # The number is digested by the vault (the one door for identity numbers) and then forgotten.
    digest = request.app.state.runtime.vault.id_digest(body.id_kind, body.id_number)
    person = await service.find_person(who.person_id, digest)
    return person.model_dump(mode="json")


@router.get("/me/visits", responses=problems(401))
async def my_visits(
    who: CurrentPrincipal, service: Service, from_: From = None, to: To = None
) -> dict[str, Any]:
    found = await service.own_visits(who.person_id, _instant("from", from_), _instant("to", to))
    visits = [v.model_dump(mode="json") for v in found]
    return {"person_id": who.person_id, "visits": visits, "checkins": visits}


@router.post("/contact-queries", status_code=201, responses=problems(*BODY, 401, 403, 404))
async def run_contact_query(body: ContactQueryIn, who: Epidemiologist, service: Service) -> dict[str, Any]:
    params = QueryParameters(
        person_id=body.person_id,
        from_at=body.from_,
        to_at=body.to,
        dwell_minutes=body.dwell_minutes,
        min_overlap_minutes=body.min_overlap_minutes,
        depth=body.depth,
    )
    return _answer(await service.contact_query(who.person_id, params))


@router.get(
    "/contact-queries/{query_id}.csv",
    response_class=Response,
    responses=problems(401, 403, 404) | {200: {"content": {"text/csv": {}}}},
)
async def export_contacts(query_id: str, who: Epidemiologist, service: Service) -> Response:
    key = _query_id(query_id)
    text = await service.export_csv(who.person_id, key)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="contacts-{key}.csv"'},
    )


@router.get("/contact-queries/{query_id}", responses=problems(401, 403, 404))
async def show_contact_query(query_id: str, who: Epidemiologist, service: Service) -> dict[str, Any]:
    return _answer(await service.show_query(who.person_id, _query_id(query_id)))


@router.post(
    "/contact-queries/{query_id}/notifications",
    status_code=202,
    responses=problems(*BODY, 401, 403, 404, 409),
)
async def notify_contacts(
    query_id: str, body: NotificationIn, who: Epidemiologist, service: Service
) -> dict[str, Any]:
    key = _query_id(query_id)
    sent = await service.notify(who.person_id, key, body.colour, body.reason)
    return {"query_id": key, "notified": sent, "colour": body.colour, "reason": body.reason}


@router.get("/settings/notifications", responses=problems(401, 403))
async def notification_setting(who: Operator, service: Service) -> dict[str, bool]:
    return {"paused": await service.notifications_paused()}


@router.put("/settings/notifications", responses=problems(*BODY, 401, 403))
async def set_notification_setting(body: PausedIn, who: Operator, service: Service) -> dict[str, bool]:
    return {"paused": await service.set_notifications_paused(who.person_id, body.paused)}


@router.get("/audit", responses=problems(401, 403))
async def audit_log(who: Operator, service: Service, from_: From = None, to: To = None) -> dict[str, Any]:
    entries = await service.audit(_instant("from", from_), _instant("to", to))
    return {"entries": [e.model_dump(mode="json") for e in entries]}

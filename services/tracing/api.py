"""HTTP routes of the tracing service: parse, authorise, call the service, answer with a model."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.tracing.answers import answer_of, text_of_id
from services.tracing.errors import QueryNotFound
from services.tracing.models import (
    AuditOut,
    ContactAnswer,
    ContactQueryIn,
    ContactQueryOut,
    NotificationIn,
    NotificationOut,
    OwnVisitsOut,
    PausedIn,
    PausedOut,
    Person,
    PersonLookupIn,
    PresenceOut,
    QueryParameters,
)
from services.tracing.services import ServicesDep
from shared.auth import CurrentPrincipal, Principal, require_role
from shared.errors import InvalidValue, problems

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


def _query_id(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError as exc:
        raise QueryNotFound() from exc


@router.get("/venues/{venue_id}/presence", response_model=PresenceOut, responses=problems(401, 403, 404))
async def venue_presence(
    venue_id: UUID, who: Epidemiologist, s: ServicesDep, from_: From = None, to: To = None
) -> PresenceOut:
    rows = await s.tracing.presence(who.person_id, venue_id, _instant("from", from_), _instant("to", to))
    return PresenceOut(venue_id=venue_id, checkins=rows)


@router.post("/person-lookups", response_model=Person, responses=problems(*BODY, 401, 403, 404))
async def find_person(body: PersonLookupIn, who: Epidemiologist, s: ServicesDep) -> Person:
    # The number is digested by the vault (the one door for identity numbers) and then forgotten.
    digest = s.vault.id_digest(body.id_kind, body.id_number)
    return await s.tracing.find_person(who.person_id, digest)


@router.get("/me/visits", response_model=OwnVisitsOut, responses=problems(401))
async def my_visits(who: CurrentPrincipal, s: ServicesDep, from_: From = None, to: To = None) -> OwnVisitsOut:
    found = await s.tracing.own_visits(who.person_id, _instant("from", from_), _instant("to", to))
    return OwnVisitsOut(person_id=who.person_id, visits=found, checkins=found)


@router.post(
    "/contact-queries",
    status_code=201,
    response_model=ContactQueryOut,
    responses=problems(*BODY, 401, 403, 404),
)
async def run_contact_query(body: ContactQueryIn, who: Epidemiologist, s: ServicesDep) -> Response:
    """Find the contacts of a case (depth 1, and their contacts at depth 2), store the query with
    its contacts and audit it. Each contact appears once, with its largest overlap; when several of
    its meetings share that overlap, the one named is the earliest contact check-in, then the
    earliest case check-in, then the lowest venue id, then (depth 2) the lowest id of the depth-1
    contact met. Contacts are listed by depth, then the largest overlap, then person id."""
    params = QueryParameters(
        person_id=body.person_id,
        from_at=body.from_,
        to_at=body.to,
        dwell_minutes=body.dwell_minutes,
        min_overlap_minutes=body.min_overlap_minutes,
        depth=body.depth,
    )
    return _answer(await s.tracing.contact_answer(who.person_id, params), 201)


@router.get(
    "/contact-queries/{query_id}.csv",
    response_class=Response,
    responses=problems(401, 403, 404) | {200: {"content": {"text/csv": {}}}},
)
async def export_contacts(query_id: str, who: Epidemiologist, s: ServicesDep) -> Response:
    key = _query_id(query_id)
    text = await s.tracing.export_csv(who.person_id, key)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="contacts-{key}.csv"'},
    )


@router.get("/contact-queries/{query_id}", response_model=ContactQueryOut, responses=problems(401, 403, 404))
async def show_contact_query(query_id: str, who: Epidemiologist, s: ServicesDep) -> Response:
    return _answer(answer_of(await s.tracing.show_query(who.person_id, _query_id(query_id))), 200)


def _answer(answer: ContactAnswer, status_code: int) -> Response:
    """A contact query's answer: the bytes pydantic writes for ``ContactQueryOut`` (its
    ``response_model`` stays for OpenAPI), the query's fields written by orjson and its case
    visits and contacts passed through as JSON (``orjson.Fragment``). FastAPI's path (dump to
    dicts, validate again, ``json.dumps``) and then pydantic's own (a ContactOut per contact, then
    its dump) were most of a skewed depth-2 answer's time outside SQL: ~13 ms of CPU for 1,500
    contacts. orjson and the store's SQL write floats, UUIDs, strings and datetimes as pydantic
    does (pydantic's ``Z`` for UTC); the ``Instant`` fields are Python's ``isoformat``
    (``+00:00``) as ``shared.web.Instant`` writes them. Unit tests compare the bytes with the
    response model's for every kind of value, and the SQL's with orjson's."""
    p = answer.parameters
    body = {
        "query_id": answer.query_id,
        "person_id": p.person_id,
        "from": p.from_at.isoformat(),
        "to": p.to_at.isoformat(),
        "dwell_minutes": p.dwell_minutes,
        "min_overlap_minutes": p.min_overlap_minutes,
        "depth": p.depth,
        "created_at": answer.created_at.isoformat(),
        "requested_by": answer.requested_by,
        "case_visits": orjson.Fragment(answer.case_visits_json),
        "contacts": orjson.Fragment(answer.contacts_json),
    }
    return Response(
        orjson.dumps(body, default=text_of_id, option=orjson.OPT_UTC_Z),
        status_code=status_code,
        media_type="application/json",
    )


@router.post(
    "/contact-queries/{query_id}/notifications",
    status_code=202,
    response_model=NotificationOut,
    responses=problems(*BODY, 401, 403, 404, 409),
)
async def notify_contacts(
    query_id: str, body: NotificationIn, who: Epidemiologist, s: ServicesDep
) -> NotificationOut:
    key = _query_id(query_id)
    sent = await s.tracing.notify(who.person_id, key, body.colour, body.reason)
    return NotificationOut(query_id=key, notified=sent, colour=body.colour, reason=body.reason)


@router.get("/settings/notifications", response_model=PausedOut, responses=problems(401, 403))
async def notification_setting(who: Operator, s: ServicesDep) -> PausedOut:
    return PausedOut(paused=await s.tracing.notifications_paused())


@router.put("/settings/notifications", response_model=PausedOut, responses=problems(*BODY, 401, 403))
async def set_notification_setting(body: PausedIn, who: Operator, s: ServicesDep) -> PausedOut:
    return PausedOut(paused=await s.tracing.set_notifications_paused(who.person_id, body.paused))


@router.get("/audit", response_model=AuditOut, responses=problems(401, 403))
async def audit_log(who: Operator, s: ServicesDep, from_: From = None, to: To = None) -> AuditOut:
    entries = await s.tracing.audit(_instant("from", from_), _instant("to", to))
    return AuditOut(entries=entries)

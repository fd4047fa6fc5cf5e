"""HTTP routes of the registry service: parse, authorise, call the service, answer."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from services.registry.errors import RegionNotFound
from services.registry.family import POWERS, FamilyService
from services.registry.handovers import HandoverService
from services.registry.models import (
    Dependent,
    Guardian,
    HandoverOut,
    HandoversOut,
    Person,
    RegionNamesOut,
    RegionOut,
    RegionsOut,
    Venue,
)
from services.registry.posters import poster_pdf, qr_png, qr_svg
from services.registry.service import PeopleService
from services.registry.venues import VenueService
from shared.auth import CSRF_COOKIE, SESSION_COOKIE, CurrentPrincipal, Principal, require_role
from shared.errors import problems
from shared.events import IdKind, StaffRole
from shared.regions import regions

# Every route may refuse a value (422) or lose a dependency (503); each adds what else it answers.
router = APIRouter(prefix="/api/registry/v1", tags=["registry"], responses=problems(422, 503))
BODY = (400, 413)  # a JSON body: malformed or too large
AGAIN: dict[int | str, Any] = {200: {"description": "Already so: the existing one, nothing new"}}
CODE_FORMATS: dict[int | str, Any] = {
    200: {
        "description": "The venue code as PNG, SVG or an A4 PDF poster",
        "content": {"image/png": {}, "image/svg+xml": {}, "application/pdf": {}},
    }
}


async def people(request: Request) -> PeopleService:  # async: no thread hop (shared/auth.py)
    service: PeopleService = request.app.state.people
    return service


async def family(request: Request) -> FamilyService:
    service: FamilyService = request.app.state.family
    return service


async def venues(request: Request) -> VenueService:
    service: VenueService = request.app.state.venues
    return service


People = Annotated[PeopleService, Depends(people)]
Family = Annotated[FamilyService, Depends(family)]
Venues = Annotated[VenueService, Depends(venues)]


async def handovers(request: Request) -> HandoverService:
    service: HandoverService = request.app.state.handovers
    return service


Handovers = Annotated[HandoverService, Depends(handovers)]
Operator = Annotated[Principal, Depends(require_role("operator"))]


ID_KIND_DOC = (
    "mainland_id (also the residence permits of Hong Kong, Macao and Taiwan residents: 81, 82, 83),"
    " hk_macao_permit, taiwan_permit, passport, or foreign_permanent_resident (added beyond API.md:"
    " the 18-digit card of 2023 starting with 9, or the 15-character card of 3 letters and 12 digits)"
)


class _Body(BaseModel):
    model_config = {"extra": "ignore"}


class NewAccount(_Body):
    name: str = Field(max_length=200)
    id_kind: IdKind = Field(description=ID_KIND_DOC)
    id_number: str = Field(max_length=64)
    phone: str = Field(max_length=32)
    password: str = Field(max_length=1024)


class Credentials(_Body):
    id_number: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class NewVenue(_Body):
    region_code: str = Field(max_length=32)
    name: str = Field(max_length=400)
    address: str | None = Field(default=None, max_length=800)
    category: str | None = Field(default=None, max_length=40)


class VenueName(_Body):
    name: str = Field(max_length=400)


class DeclarationCode(_Body):
    declaration_code: str = Field(max_length=64)


class NewDependent(_Body):
    name: str = Field(max_length=200)
    id_kind: IdKind = Field(description=ID_KIND_DOC)
    id_number: str = Field(max_length=64)
    relation: str = Field(max_length=80)


class NewHandover(_Body):
    """The account the venue goes to: by its phone number or by its person id (one of them)."""

    to_phone: str | None = Field(default=None, max_length=32)
    to_person_id: UUID | None = None


class NewRoleGrant(_Body):
    person_id: UUID
    role: StaffRole


def person_body(person: Person) -> dict[str, object]:
    return {"person_id": person.person_id, "masked_name": person.masked_name, "masked_id": person.masked_id}


def dependent_body(found: Dependent) -> dict[str, object]:
    return {
        "person_id": found.person_id,
        "masked_name": found.masked_name,
        "masked_id": found.masked_id,
        "relation": found.relation,
        "birth_date": found.birth_date,
        "linked_at": found.linked_at,
        "state": found.state,
    }


def guardian_body(found: Guardian) -> dict[str, object]:
    """A link on the caller, with the notice of what an active link lets the guardian do."""
    return {
        "guardian_id": found.guardian_id,
        "masked_name": found.masked_name,
        "relation": found.relation,
        "linked_at": found.linked_at,
        "state": found.state,
        "can": list(POWERS),
    }


def region_names(region_code: str) -> RegionNamesOut | None:
    names = regions().names(region_code)
    return None if names is None else RegionNamesOut.of(names)


def venue_body(venue: Venue) -> dict[str, object]:
    return {
        "venue_id": venue.venue_id,
        "region_code": venue.region_code,
        "region_names": region_names(venue.region_code),
        "name": venue.name,
        "address": venue.address,
        "category": venue.category.value,
        "declaration_code": venue.declaration_code,
        "poster_version": venue.poster_version,
    }


@router.post("/accounts", status_code=201, responses=problems(*BODY, 409))
async def create_account(body: NewAccount, service: People) -> dict[str, object]:
    person = await service.register_account(
        body.name, body.id_kind, body.id_number, body.phone, body.password
    )
    return person_body(person)


def _secure(request: Request) -> bool:
    infra = request.app.state.runtime.infra
    return bool(infra.is_production)


def set_session_cookies(response: Response, token: str, ttl_s: int, *, secure: bool) -> None:
    """The page session: the token HttpOnly, and a readable CSRF token for the double submit."""
    response.set_cookie(
        SESSION_COOKIE, token, max_age=ttl_s, path="/", httponly=True, samesite="lax", secure=secure
    )
    # Page scripts read this cookie and echo it in X-CSRF-Token.
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(32), max_age=ttl_s, path="/", samesite="lax", secure=secure
    )


@router.post("/sessions", responses=problems(*BODY, 401, 429))
async def sign_in(
    body: Credentials, request: Request, response: Response, service: People
) -> dict[str, object]:
    signed = await service.sign_in(body.id_number, body.password)
    set_session_cookies(response, signed.access_token, signed.expires_in, secure=_secure(request))
    return {
        "access_token": signed.access_token,
        "token_type": "Bearer",
        "expires_in": signed.expires_in,
        "person_id": signed.person_id,
        "roles": signed.roles,
    }


@router.post("/sessions/logout", status_code=204)
async def sign_out(request: Request) -> Response:
    response = Response(status_code=204)
    secure = _secure(request)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="lax", secure=secure)
    return response


@router.post("/venues", status_code=201, responses=problems(*BODY, 401, 404, 409))
async def create_venue(body: NewVenue, caller: CurrentPrincipal, service: Venues) -> dict[str, object]:
    venue = await service.create(caller.person_id, body.region_code, body.name, body.address, body.category)
    return venue_body(venue)


@router.get("/regions", response_model=RegionsOut, responses=problems(404))
async def list_regions(
    parent: Annotated[str | None, Query(pattern="^[0-9]{6}$", description="a GB/T 2260 code")] = None,
) -> RegionsOut:
    """The GB/T 2260 divisions under ``parent`` (provinces without it), for the venue picker.

    ``selectable`` marks the county-level units a venue's ``region_code`` may be.
    """
    table = regions()
    if parent is not None and table.get(parent) is None:
        raise RegionNotFound("No GB/T 2260 division has this code.")
    return RegionsOut(
        parent=parent,
        source=table.source,
        regions=[
            RegionOut(code=r.code, name=r.name, selectable=r.selectable) for r in table.children(parent)
        ],
    )


@router.get("/venues/mine", responses=problems(401, 404))
async def my_venue(caller: CurrentPrincipal, service: Venues) -> dict[str, object]:
    venue, inspectors = await service.mine(caller.person_id)
    return {
        **venue_body(venue),
        "inspectors": [
            {"person_id": i.person_id, "masked_name": i.masked_name, "bound_at": i.bound_at}
            for i in inspectors
        ],
    }


@router.patch("/venues/{venue_id}", responses=problems(*BODY, 401, 403, 404, 409))
async def rename_venue(
    venue_id: UUID, body: VenueName, caller: CurrentPrincipal, service: Venues
) -> dict[str, object]:
    return venue_body(await service.rename(venue_id, caller.person_id, body.name))


@router.post("/venues/{venue_id}/declaration-code/rotate", responses=problems(401, 403, 404))
async def rotate_code(venue_id: UUID, caller: CurrentPrincipal, service: Venues) -> dict[str, str]:
    return {"declaration_code": await service.rotate_code(venue_id, caller.person_id)}


@router.post("/venues/{venue_id}/poster/reissue", responses=problems(401, 403, 404))
async def reissue_poster(venue_id: UUID, caller: CurrentPrincipal, service: Venues) -> dict[str, object]:
    return {"venue_id": venue_id, "poster_version": await service.reissue_poster(venue_id, caller.person_id)}


@router.post("/inspector-bindings", status_code=201, responses=problems(*BODY, 401, 404, 409) | AGAIN)
async def bind(
    body: DeclarationCode, caller: CurrentPrincipal, response: Response, service: Venues
) -> dict[str, object]:
    venue, created = await service.bind(caller.person_id, body.declaration_code)
    if not created:
        response.status_code = 200
    return {"venue_id": venue.venue_id, "name": venue.name, "region_code": venue.region_code}


@router.get("/inspector-bindings", responses=problems(401))
async def my_bindings(caller: CurrentPrincipal, service: Venues) -> dict[str, object]:
    bound = await service.bindings(caller.person_id)
    return {
        "venues": [
            {
                "venue_id": b.venue_id,
                "name": b.name,
                "region_code": b.region_code,
                "region_names": region_names(b.region_code),
                "bound_at": b.bound_at,
                "is_administrator": b.is_administrator,
                "poster_version": b.poster_version,
                # The inspector's quick "temperature normal" check-in opens the poster's own page.
                "venue_token": service.token_of(b),
            }
            for b in bound
        ]
    }


@router.delete("/inspector-bindings/{venue_id}", status_code=204, responses=problems(401, 404, 409))
async def leave(venue_id: UUID, caller: CurrentPrincipal, service: Venues) -> Response:
    await service.leave(caller.person_id, venue_id)
    return Response(status_code=204)


@router.delete(
    "/venues/{venue_id}/inspectors/{person_id}", status_code=204, responses=problems(401, 403, 404, 409)
)
async def remove_inspector(
    venue_id: UUID, person_id: UUID, caller: CurrentPrincipal, service: Venues
) -> Response:
    await service.remove_inspector(caller.person_id, venue_id, person_id)
    return Response(status_code=204)


@router.get("/venues/{venue_id}/code", responses=problems(401, 403, 404) | CODE_FORMATS)
async def venue_code(
    venue_id: UUID,
    caller: CurrentPrincipal,
    service: Venues,
    format: Annotated[Literal["png", "svg", "pdf"], Query()] = "png",
) -> Response:
    code = await service.venue_code(caller.person_id, venue_id, format)
    headers = {"Cache-Control": "no-store"}
    if format == "png":
        return Response(qr_png(code.url), media_type="image/png", headers=headers)
    if format == "svg":
        return Response(qr_svg(code.url), media_type="image/svg+xml", headers=headers)
    pdf = poster_pdf(code.venue, code.url, datetime.now(UTC))
    headers["Content-Disposition"] = (
        f'attachment; filename="venue-{venue_id}-v{code.venue.poster_version}.pdf"'
    )
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post("/dependents", status_code=201, responses=problems(*BODY, 401, 403, 404, 409) | AGAIN)
async def add_dependent(
    body: NewDependent, caller: CurrentPrincipal, response: Response, service: Family
) -> dict[str, object]:
    """A child or an elder without an account is linked at once (``state: active``); a person with
    an account of their own gets a request (``state: pending``) that only they can accept."""
    found, created = await service.add(
        caller.person_id, body.name, body.id_kind, body.id_number, body.relation
    )
    if not created:
        response.status_code = 200
    return dependent_body(found)


@router.get("/dependents", responses=problems(401))
async def list_dependents(caller: CurrentPrincipal, service: Family) -> dict[str, object]:
    return {"dependents": [dependent_body(d) for d in await service.dependents(caller.person_id)]}


@router.delete("/dependents/{person_id}", status_code=204, responses=problems(401, 404))
async def unlink_dependent(person_id: UUID, caller: CurrentPrincipal, service: Family) -> Response:
    """The guardian unlinks a family member, or withdraws a request still pending."""
    await service.end(caller.person_id, person_id, by_guardian=True)
    return Response(status_code=204)


@router.get("/guardians", responses=problems(401))
async def list_guardians(caller: CurrentPrincipal, service: Family) -> dict[str, object]:
    """The links on the caller: requests waiting for their answer and guardians who may act."""
    return {"guardians": [guardian_body(g) for g in await service.guardians(caller.person_id)]}


@router.post("/guardians/{guardian_id}/accept", responses=problems(401, 404))
async def accept_guardian(guardian_id: UUID, caller: CurrentPrincipal, service: Family) -> dict[str, object]:
    return guardian_body(await service.accept(caller.person_id, guardian_id))


@router.delete("/guardians/{guardian_id}", status_code=204, responses=problems(401, 404))
async def end_guardian(guardian_id: UUID, caller: CurrentPrincipal, service: Family) -> Response:
    """The person declines a request or revokes a guardian's link."""
    await service.end(guardian_id, caller.person_id, by_guardian=False)
    return Response(status_code=204)


@router.post("/role-grants", status_code=201, responses=problems(*BODY, 401, 403, 404))
async def grant_role(body: NewRoleGrant, caller: Operator, service: People) -> dict[str, object]:
    await service.grant_role(body.person_id, body.role, caller.person_id)
    return {"person_id": body.person_id, "role": body.role, "granted_by": caller.person_id}


@router.post(
    "/venues/{venue_id}/handovers",
    status_code=201,
    response_model=HandoverOut,
    responses=problems(*BODY, 401, 403, 404, 409),
)
async def offer_handover(
    venue_id: UUID, body: NewHandover, caller: CurrentPrincipal, service: Handovers
) -> HandoverOut:
    """The administrator offers the venue to another account, which must accept it (7 days)."""
    found = await service.offer(caller.person_id, venue_id, body.to_phone, body.to_person_id)
    return HandoverOut.of(found)


@router.get("/venues/{venue_id}/handovers", response_model=HandoversOut, responses=problems(401, 403, 404))
async def venue_handovers(venue_id: UUID, caller: CurrentPrincipal, service: Handovers) -> HandoversOut:
    """Every handover and reassignment of the venue, newest first (its administrator or an operator)."""
    found = await service.history(caller.person_id, venue_id, operator="operator" in caller.roles)
    return HandoversOut(handovers=[HandoverOut.of(h) for h in found])


@router.get("/handovers/incoming", response_model=HandoversOut, responses=problems(401))
async def incoming_handovers(caller: CurrentPrincipal, service: Handovers) -> HandoversOut:
    """Offers waiting for the caller's answer."""
    return HandoversOut(handovers=[HandoverOut.of(h) for h in await service.incoming(caller.person_id)])


@router.post(
    "/handovers/{handover_id}/accept", response_model=HandoverOut, responses=problems(401, 403, 404, 409, 410)
)
async def accept_handover(handover_id: UUID, caller: CurrentPrincipal, service: Handovers) -> HandoverOut:
    """The named account becomes the venue's administrator; ``venue.handed_over`` follows."""
    return HandoverOut.of(await service.accept(caller.person_id, handover_id))


@router.post(
    "/handovers/{handover_id}/decline", response_model=HandoverOut, responses=problems(401, 403, 404, 409)
)
async def decline_handover(handover_id: UUID, caller: CurrentPrincipal, service: Handovers) -> HandoverOut:
    return HandoverOut.of(await service.decline(caller.person_id, handover_id))


@router.post(
    "/handovers/{handover_id}/cancel", response_model=HandoverOut, responses=problems(401, 403, 404, 409)
)
async def cancel_handover(handover_id: UUID, caller: CurrentPrincipal, service: Handovers) -> HandoverOut:
    """The administrator who offered withdraws a pending offer."""
    return HandoverOut.of(await service.cancel(caller.person_id, handover_id))


@router.post(
    "/venues/{venue_id}/administrator",
    response_model=HandoverOut,
    responses=problems(*BODY, 401, 403, 404, 409),
)
async def reassign_venue(
    venue_id: UUID, body: NewHandover, caller: Operator, service: Handovers
) -> HandoverOut:
    """An operator gives the venue to another account at once (e.g. its administrator left)."""
    return HandoverOut.of(
        await service.reassign(caller.person_id, venue_id, body.to_phone, body.to_person_id)
    )

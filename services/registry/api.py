"""HTTP routes of the registry service: parse, authorise, call the service, answer."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.registry.models import (
    BindingOut,
    BoundVenueOut,
    BoundVenuesOut,
    Credentials,
    DeclarationCode,
    DeclarationCodeOut,
    Dependent,
    DependentsOut,
    GuardianOut,
    GuardiansOut,
    InspectorOut,
    MyVenueOut,
    NewAccount,
    NewDependent,
    NewRoleGrant,
    NewVenue,
    PersonOut,
    PosterOut,
    RoleGrantOut,
    SessionOut,
    VenueName,
    VenueOut,
)
from services.registry.posters import poster_pdf, qr_png, qr_svg
from services.registry.services import ServicesDep
from shared.auth import CSRF_COOKIE, SESSION_COOKIE, CurrentPrincipal, Principal, require_role
from shared.errors import problems

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


Operator = Annotated[Principal, Depends(require_role("operator"))]


@router.post("/accounts", status_code=201, response_model=PersonOut, responses=problems(*BODY, 409))
async def create_account(body: NewAccount, services: ServicesDep) -> PersonOut:
    person = await services.people.register_account(
        body.name, body.id_kind, body.id_number, body.phone, body.password
    )
    return PersonOut.of(person)


def set_session_cookies(response: Response, token: str, ttl_s: int, *, secure: bool) -> None:
    """The page session: the token HttpOnly, and a readable CSRF token for the double submit."""
    response.set_cookie(
        SESSION_COOKIE, token, max_age=ttl_s, path="/", httponly=True, samesite="lax", secure=secure
    )
    # Page scripts read this cookie and echo it in X-CSRF-Token.
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(32), max_age=ttl_s, path="/", samesite="lax", secure=secure
    )


@router.post("/sessions", response_model=SessionOut, responses=problems(*BODY, 401, 429))
async def sign_in(body: Credentials, response: Response, services: ServicesDep) -> SessionOut:
    signed = await services.people.sign_in(body.id_number, body.password)
    set_session_cookies(response, signed.access_token, signed.expires_in, secure=services.secure_cookies)
    return SessionOut(
        access_token=signed.access_token,
        expires_in=signed.expires_in,
        person_id=signed.person_id,
        roles=signed.roles,
    )


@router.post("/sessions/logout", status_code=204)
async def sign_out(services: ServicesDep) -> Response:
    response = Response(status_code=204)
    secure = services.secure_cookies
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="lax", secure=secure)
    return response


@router.post("/venues", status_code=201, response_model=VenueOut, responses=problems(*BODY, 401, 404, 409))
async def create_venue(body: NewVenue, caller: CurrentPrincipal, services: ServicesDep) -> VenueOut:
    venue = await services.venues.create(
        caller.person_id, body.region_code, body.name, body.address, body.category
    )
    return VenueOut.of(venue)


@router.get("/venues/mine", response_model=MyVenueOut, responses=problems(401, 404))
async def my_venue(caller: CurrentPrincipal, services: ServicesDep) -> MyVenueOut:
    venue, inspectors = await services.venues.mine(caller.person_id)
    listed = [
        InspectorOut(person_id=i.person_id, masked_name=i.masked_name, bound_at=i.bound_at)
        for i in inspectors
    ]
    return MyVenueOut(**VenueOut.of(venue).model_dump(), inspectors=listed)


@router.patch("/venues/{venue_id}", response_model=VenueOut, responses=problems(*BODY, 401, 403, 404, 409))
async def rename_venue(
    venue_id: UUID, body: VenueName, caller: CurrentPrincipal, services: ServicesDep
) -> VenueOut:
    return VenueOut.of(await services.venues.rename(venue_id, caller.person_id, body.name))


@router.post(
    "/venues/{venue_id}/declaration-code/rotate",
    response_model=DeclarationCodeOut,
    responses=problems(401, 403, 404),
)
async def rotate_code(venue_id: UUID, caller: CurrentPrincipal, services: ServicesDep) -> DeclarationCodeOut:
    return DeclarationCodeOut(declaration_code=await services.venues.rotate_code(venue_id, caller.person_id))


@router.post("/venues/{venue_id}/poster/reissue", response_model=PosterOut, responses=problems(401, 403, 404))
async def reissue_poster(venue_id: UUID, caller: CurrentPrincipal, services: ServicesDep) -> PosterOut:
    version = await services.venues.reissue_poster(venue_id, caller.person_id)
    return PosterOut(venue_id=venue_id, poster_version=version)


@router.post(
    "/inspector-bindings",
    status_code=201,
    response_model=BindingOut,
    responses=problems(*BODY, 401, 404, 409) | AGAIN,
)
async def bind(
    body: DeclarationCode, caller: CurrentPrincipal, response: Response, services: ServicesDep
) -> BindingOut:
    venue, created = await services.venues.bind(caller.person_id, body.declaration_code)
    if not created:
        response.status_code = 200
    return BindingOut(venue_id=venue.venue_id, name=venue.name, region_code=venue.region_code)


@router.get("/inspector-bindings", response_model=BoundVenuesOut, responses=problems(401))
async def my_bindings(caller: CurrentPrincipal, services: ServicesDep) -> BoundVenuesOut:
    venues = services.venues
    bound = await venues.bindings(caller.person_id)
    return BoundVenuesOut(
        venues=[
            BoundVenueOut(
                venue_id=b.venue_id,
                name=b.name,
                region_code=b.region_code,
                bound_at=b.bound_at,
                is_administrator=b.is_administrator,
                poster_version=b.poster_version,
                venue_token=venues.token_of(b),
            )
            for b in bound
        ]
    )


@router.delete("/inspector-bindings/{venue_id}", status_code=204, responses=problems(401, 404, 409))
async def leave(venue_id: UUID, caller: CurrentPrincipal, services: ServicesDep) -> Response:
    await services.venues.leave(caller.person_id, venue_id)
    return Response(status_code=204)


@router.delete(
    "/venues/{venue_id}/inspectors/{person_id}", status_code=204, responses=problems(401, 403, 404, 409)
)
async def remove_inspector(
    venue_id: UUID, person_id: UUID, caller: CurrentPrincipal, services: ServicesDep
) -> Response:
    await services.venues.remove_inspector(caller.person_id, venue_id, person_id)
    return Response(status_code=204)


@router.get("/venues/{venue_id}/code", responses=problems(401, 403, 404) | CODE_FORMATS)
async def venue_code(
    venue_id: UUID,
    caller: CurrentPrincipal,
    services: ServicesDep,
    format: Annotated[Literal["png", "svg", "pdf"], Query()] = "png",
) -> Response:
    code = await services.venues.venue_code(caller.person_id, venue_id)
    headers = {"Cache-Control": "no-store"}
    if format == "png":
        return Response(qr_png(code.url), media_type="image/png", headers=headers)
    if format == "svg":
        return Response(qr_svg(code.url), media_type="image/svg+xml", headers=headers)
    pdf = poster_pdf(code.venue, code.url, datetime.now(UTC).date())
    headers["Content-Disposition"] = (
        f'attachment; filename="venue-{venue_id}-v{code.venue.poster_version}.pdf"'
    )
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post(
    "/dependents",
    status_code=201,
    response_model=Dependent,
    responses=problems(*BODY, 401, 403, 404, 409) | AGAIN,
)
async def add_dependent(
    body: NewDependent, caller: CurrentPrincipal, response: Response, services: ServicesDep
) -> Dependent:
    """A child or an elder without an account is linked at once (``state: active``); a person with
    an account of their own gets a request (``state: pending``) that only they can accept."""
    found, created = await services.family.add(
        caller.person_id, body.name, body.id_kind, body.id_number, body.relation
    )
    if not created:
        response.status_code = 200
    return found


@router.get("/dependents", response_model=DependentsOut, responses=problems(401))
async def list_dependents(caller: CurrentPrincipal, services: ServicesDep) -> DependentsOut:
    found = await services.family.dependents(caller.person_id)
    return DependentsOut(dependents=found)


@router.delete("/dependents/{person_id}", status_code=204, responses=problems(401, 404))
async def unlink_dependent(person_id: UUID, caller: CurrentPrincipal, services: ServicesDep) -> Response:
    """The guardian unlinks a family member, or withdraws a request still pending."""
    await services.family.end(caller.person_id, person_id, by_guardian=True)
    return Response(status_code=204)


@router.get("/guardians", response_model=GuardiansOut, responses=problems(401))
async def list_guardians(caller: CurrentPrincipal, services: ServicesDep) -> GuardiansOut:
    """The links on the caller: requests waiting for their answer and guardians who may act."""
    found = await services.family.guardians(caller.person_id)
    return GuardiansOut(guardians=[GuardianOut.of(g) for g in found])


@router.post("/guardians/{guardian_id}/accept", response_model=GuardianOut, responses=problems(401, 404))
async def accept_guardian(guardian_id: UUID, caller: CurrentPrincipal, services: ServicesDep) -> GuardianOut:
    return GuardianOut.of(await services.family.accept(caller.person_id, guardian_id))


@router.delete("/guardians/{guardian_id}", status_code=204, responses=problems(401, 404))
async def end_guardian(guardian_id: UUID, caller: CurrentPrincipal, services: ServicesDep) -> Response:
    """The person declines a request or revokes a guardian's link."""
    await services.family.end(guardian_id, caller.person_id, by_guardian=False)
    return Response(status_code=204)


@router.post(
    "/role-grants", status_code=201, response_model=RoleGrantOut, responses=problems(*BODY, 401, 403, 404)
)
async def grant_role(body: NewRoleGrant, caller: Operator, services: ServicesDep) -> RoleGrantOut:
    await services.people.grant_role(body.person_id, body.role, caller.person_id)
    return RoleGrantOut(person_id=body.person_id, role=body.role, granted_by=caller.person_id)

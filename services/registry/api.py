"""HTTP routes of the registry service: parse, authorise, call the service, answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.registry.errors import RegionNotFound
from services.registry.models import (
    AssistedRegistrationOut,
    BindingOut,
    BoundVenueOut,
    BoundVenuesOut,
    DeclarationCode,
    DeclarationCodeOut,
    Dependent,
    DependentsOut,
    GuardianOut,
    GuardiansOut,
    InspectorOut,
    MyVenueOut,
    NewAccount,
    NewAssistedRegistration,
    NewDependent,
    NewRoleGrant,
    NewVenue,
    PersonOut,
    PosterOut,
    RegionOut,
    RegionsOut,
    RoleGrantOut,
    VenueName,
    VenueOut,
)
from services.registry.models_handovers import HandoverOut, HandoversOut, NewHandover
from services.registry.posters import poster_pdf, qr_png, qr_svg
from services.registry.services import ServicesDep
from shared.answers import RegionNamesOut
from shared.auth import CurrentPrincipal, Principal, require_role
from shared.errors import problems
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


Operator = Annotated[Principal, Depends(require_role("operator"))]


@router.get("/regions", response_model=RegionsOut, responses=problems(404))
async def list_regions(
    parent: Annotated[
        str | None, Query(max_length=6, pattern="^[0-9]{6}$", description="a GB/T 2260 code")
    ] = None,
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


@router.post("/accounts", status_code=201, response_model=PersonOut, responses=problems(*BODY, 409))
async def create_account(body: NewAccount, services: ServicesDep) -> PersonOut:
    person = await services.people.register_account(
        body.name, body.id_kind, body.id_number, body.phone, body.password
    )
    return PersonOut.of(person)


@router.post(
    "/assisted-registrations",
    status_code=201,
    summary="An inspector registers an elder (60+) or a child (16 and under) on the spot",
    response_model=AssistedRegistrationOut,
    responses=problems(*BODY, 401, 403, 409),
)
async def register_assisted(
    body: NewAssistedRegistration, caller: CurrentPrincipal, services: ServicesDep
) -> AssistedRegistrationOut:
    """No phone and no password: claimable later by the person's own registration or a guardian."""
    done = await services.assisted.register(caller.person_id, body.name, body.id_number, body.birth_date)
    return AssistedRegistrationOut(**PersonOut.of(done.person).model_dump(), registered_at=done.registered_at)


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
                region_names=RegionNamesOut.of_code(b.region_code),
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
    code = await services.venues.venue_code(caller.person_id, venue_id, format)
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


@router.post(
    "/venues/{venue_id}/handovers",
    status_code=201,
    response_model=HandoverOut,
    responses=problems(*BODY, 401, 403, 404, 409),
)
async def offer_handover(
    venue_id: UUID, body: NewHandover, caller: CurrentPrincipal, services: ServicesDep
) -> HandoverOut:
    """The administrator offers the venue to another account, which must accept it (7 days)."""
    found = await services.handovers.offer(caller.person_id, venue_id, body.to_phone, body.to_person_id)
    return HandoverOut.of(found)


@router.get("/venues/{venue_id}/handovers", response_model=HandoversOut, responses=problems(401, 403, 404))
async def venue_handovers(venue_id: UUID, caller: CurrentPrincipal, services: ServicesDep) -> HandoversOut:
    """Every handover and reassignment of the venue, newest first (its administrator or an operator)."""
    found = await services.handovers.history(caller.person_id, venue_id, operator=caller.has("operator"))
    return HandoversOut(handovers=[HandoverOut.of(h) for h in found])


@router.get("/handovers/incoming", response_model=HandoversOut, responses=problems(401))
async def incoming_handovers(caller: CurrentPrincipal, services: ServicesDep) -> HandoversOut:
    """Offers waiting for the caller's answer."""
    found = await services.handovers.incoming(caller.person_id)
    return HandoversOut(handovers=[HandoverOut.of(h) for h in found])


@router.post(
    "/handovers/{handover_id}/accept", response_model=HandoverOut, responses=problems(401, 403, 404, 409, 410)
)
async def accept_handover(handover_id: UUID, caller: CurrentPrincipal, services: ServicesDep) -> HandoverOut:
    """The named account becomes the venue's administrator; ``venue.handed_over`` follows."""
    return HandoverOut.of(await services.handovers.accept(caller.person_id, handover_id))


@router.post(
    "/handovers/{handover_id}/decline", response_model=HandoverOut, responses=problems(401, 403, 404, 409)
)
async def decline_handover(handover_id: UUID, caller: CurrentPrincipal, services: ServicesDep) -> HandoverOut:
    return HandoverOut.of(await services.handovers.decline(caller.person_id, handover_id))


@router.post(
    "/handovers/{handover_id}/cancel", response_model=HandoverOut, responses=problems(401, 403, 404, 409)
)
async def cancel_handover(handover_id: UUID, caller: CurrentPrincipal, services: ServicesDep) -> HandoverOut:
    """The administrator who offered withdraws a pending offer."""
    return HandoverOut.of(await services.handovers.cancel(caller.person_id, handover_id))


@router.post(
    "/venues/{venue_id}/administrator",
    response_model=HandoverOut,
    responses=problems(*BODY, 401, 403, 404, 409),
)
async def reassign_venue(
    venue_id: UUID, body: NewHandover, caller: Operator, services: ServicesDep
) -> HandoverOut:
    """An operator gives the venue to another account at once (e.g. its administrator left)."""
    found = await services.handovers.reassign(caller.person_id, venue_id, body.to_phone, body.to_person_id)
    return HandoverOut.of(found)

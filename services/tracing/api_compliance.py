"""HTTP route of the compliance view (issue 16): for operators and the health authority."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.tracing.compliance import (
    DAYS_MAX,
    DAYS_MIN,
    PAGE_MAX,
    PAGE_MIN,
    CompliancePage,
)
from services.tracing.models import ComplianceOut, LaggingVenueOut
from services.tracing.services import ServicesDep
from shared.answers import RegionNamesOut
from shared.auth import Principal, current_principal
from shared.errors import Forbidden, problems
from shared.regions import regions

router = APIRouter(
    prefix="/api/tracing/v1", tags=["tracing: compliance"], responses=problems(401, 403, 422, 503)
)


def follow_up_role(principal: Principal) -> Principal:
    if not (principal.has("operator") or principal.has("health_authority")):
        raise Forbidden("This needs the operator or the health_authority role.")
    return principal


async def _follow_up(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    return follow_up_role(principal)


FollowUp = Annotated[Principal, Depends(_follow_up)]


def compliance_body(page: CompliancePage) -> ComplianceOut:
    table = regions()
    venues = []
    for item in page.venues:
        names = table.names(item.venue.region_code)
        venues.append(
            LaggingVenueOut(
                venue_id=item.venue.venue_id,
                region_code=item.venue.region_code,
                region_names=None if names is None else RegionNamesOut.of(names),
                name=item.venue.name,
                address=item.venue.address,
                category=item.venue.category,
                last_checkin_at=item.venue.last_checkin_at,
                poster_version=item.venue.poster_version,
                printed_version=item.venue.printed_version,
                reasons=list(item.reasons),
            )
        )
    return ComplianceOut(
        region=page.region, days=page.days, since=page.since, venues=venues, next_after=page.next_after
    )


@router.get("/compliance/venues", response_model=ComplianceOut)
async def lagging_venues(
    _caller: FollowUp,
    services: ServicesDep,
    region: Annotated[
        str | None,
        Query(
            max_length=6, pattern="^[0-9]{6}$", description="a province, city or district code (GB/T 2260)"
        ),
    ] = None,
    days: Annotated[int, Query(description=f"no scan in this many days ({DAYS_MIN}-{DAYS_MAX})")] = 7,
    after: Annotated[str | None, Query(max_length=80, description="next_after of the previous page")] = None,
    limit: Annotated[int, Query(description=f"venues a page ({PAGE_MIN}-{PAGE_MAX})")] = 50,
) -> ComplianceOut:
    """Venues in the region with no check-in in the last ``days`` days (or never), or whose current
    poster was never printed; ordered by region code, paged by ``after``."""
    return compliance_body(await services.compliance.lagging(region, days, after, limit))

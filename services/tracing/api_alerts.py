"""HTTP routes of venue alerts: create (epidemiologist), review, approve (health_authority), withdraw."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from services.tracing.api import Epidemiologist
from services.tracing.api_outbreaks import stored_id
from services.tracing.errors import AlertNotFound
from services.tracing.models_outbreaks import (
    AlertListOut,
    AlertState,
    AlertSummaryOut,
    VenueAlertIn,
    VenueAlertOut,
)
from services.tracing.services import ServicesDep
from shared.auth import Principal, current_principal, require_role
from shared.errors import Forbidden, problems

# Every route here may answer these (a body malformed or too large, no or a bad token, the wrong
# role, an unknown id, a rule in the way, a bad value, a dependency down), all as problem+json.
router = APIRouter(
    prefix="/api/tracing/v1",
    tags=["tracing: venue alerts"],
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)

HealthAuthority = Annotated[Principal, Depends(require_role("health_authority"))]


async def _reviewer(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """Those who work on alerts: the epidemiologists who raise them and the authority that approves."""
    if not (principal.has("epidemiologist") or principal.has("health_authority")):
        raise Forbidden("This needs the epidemiologist or the health_authority role.")
    return principal


Reviewer = Annotated[Principal, Depends(_reviewer)]


def _alert_key(raw: str) -> UUID:
    return stored_id(raw, AlertNotFound)


@router.get("/venue-alerts", response_model=AlertListOut, response_model_by_alias=True)
async def list_venue_alerts(who: Reviewer, s: ServicesDep, state: AlertState | None = None) -> AlertListOut:
    found = await s.alerts.listed(state)
    return AlertListOut(
        alerts=[
            AlertSummaryOut(**a.model_dump(exclude={"from_at", "to_at"}), from_=a.from_at, to=a.to_at)
            for a in found
        ]
    )


@router.post("/venue-alerts", status_code=201, response_model=VenueAlertOut, response_model_by_alias=True)
async def create_venue_alert(body: VenueAlertIn, who: Epidemiologist, s: ServicesDep) -> VenueAlertOut:
    alert = await s.alerts.create(
        who.person_id, body.venue_id, body.from_, body.to, dwell_minutes=body.dwell_minutes, note=body.note
    )
    return VenueAlertOut.of(alert)


@router.get("/venue-alerts/{alert_id}", response_model=VenueAlertOut, response_model_by_alias=True)
async def show_venue_alert(alert_id: str, who: Reviewer, s: ServicesDep) -> VenueAlertOut:
    return VenueAlertOut.of(await s.alerts.show(who.person_id, _alert_key(alert_id)))


@router.post("/venue-alerts/{alert_id}/approvals", response_model=VenueAlertOut, response_model_by_alias=True)
async def approve_venue_alert(alert_id: str, who: HealthAuthority, s: ServicesDep) -> VenueAlertOut:
    return VenueAlertOut.of(await s.alerts.approve(who.person_id, _alert_key(alert_id)))


@router.post(
    "/venue-alerts/{alert_id}/withdrawal", response_model=VenueAlertOut, response_model_by_alias=True
)
async def withdraw_venue_alert(alert_id: str, who: Reviewer, s: ServicesDep) -> VenueAlertOut:
    return VenueAlertOut.of(await s.alerts.withdraw(who.person_id, _alert_key(alert_id)))

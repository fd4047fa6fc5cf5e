"""HTTP routes of the status service: parse, authorise, call the service, answer."""

from __future__ import annotations

import base64
import io
from typing import Annotated
from uuid import UUID

import segno
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.status.models import (
    HealthCodeOut,
    HistoryEntry,
    HistoryOut,
    LookupIn,
    LookupOut,
    Shown,
    StatusIn,
    StatusOut,
    StatusRecord,
    VerifyIn,
    VerifyOut,
)
from services.status.paper import paper_card_pdf
from services.status.services import ServicesDep
from shared.auth import CurrentPrincipal, Principal, require_role
from shared.errors import problems
from shared.i18n import language_of, reason_text

# Every route may refuse a value (422) or lose a dependency (503); each adds what else it answers.
router = APIRouter(prefix="/api/status/v1", tags=["status"], responses=problems(422, 503))
BODY = (400, 413)  # a JSON body: malformed or too large
Authority = Annotated[Principal, Depends(require_role("health_authority"))]
PersonQuery = Annotated[UUID | None, Query(description="Whose code; default: the caller")]


def _reason(request: Request, shown: Shown | StatusRecord) -> str:
    return reason_text(shown.reason, language_of(request))


@router.get(
    "/health-code", summary="The health code of the caller or a dependent", responses=problems(401, 403, 404)
)
async def health_code(
    request: Request, svc: ServicesDep, principal: CurrentPrincipal, person_id: PersonQuery = None
) -> HealthCodeOut:
    code = await svc.codes.health_code(principal.person_id, person_id or principal.person_id)
    s = code.shown
    return HealthCodeOut(
        person_id=code.person_id,
        masked_name=code.masked_name,
        colour=s.colour,
        reason=s.reason,
        reason_text=_reason(request, s),
        updated_at=s.updated_at,
        token=code.token,
        token_expires_at=code.token_expires_at,
    )


@router.get(
    "/health-code.svg",
    summary="The health code's QR as SVG, with a fresh token",
    response_class=Response,
    responses=problems(401, 403, 404) | {200: {"content": {"image/svg+xml": {}}}},
)
async def health_code_svg(
    request: Request, svc: ServicesDep, principal: CurrentPrincipal, person_id: PersonQuery = None
) -> Response:
    code = await svc.codes.health_code(principal.person_id, person_id or principal.person_id)
    # A standalone document (with xmlns): browsers show only such an SVG as an <img>.
    return Response(_qr_svg(code.token), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get(
    "/paper-code",
    summary="A printable paper health code (PDF); printing revokes the previous card",
    response_class=Response,
    responses=problems(401, 403, 404) | {200: {"content": {"application/pdf": {}}}},
)
async def paper_code(
    request: Request, svc: ServicesDep, principal: CurrentPrincipal, person_id: PersonQuery = None
) -> Response:
    card = await svc.codes.paper_code(principal.person_id, person_id or principal.person_id)
    pdf = paper_card_pdf(
        card.token, card.masked_name, card.serial, svc.status.clock.now(), language_of(request)
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'inline; filename="paper-health-code.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/health-codes/verify",
    summary="An inspector resolves a shown health code",
    responses=problems(*BODY, 401, 403, 404, 410),
)
async def verify(
    request: Request, svc: ServicesDep, principal: CurrentPrincipal, body: VerifyIn
) -> VerifyOut:
    found = await svc.codes.verify(principal.person_id, body.token)
    s = found.shown
    return VerifyOut(
        person_id=found.person_id,
        masked_name=found.masked_name,
        masked_id=found.masked_id,
        colour=s.colour,
        reason=s.reason,
        reason_text=_reason(request, s),
        token_kind=found.token_kind,
    )


@router.put(
    "/persons/{person_id}/status",
    summary="The health authority sets a person's colour",
    responses=problems(*BODY, 401, 403, 404, 409),
)
async def set_status(
    request: Request, svc: ServicesDep, principal: Authority, person_id: UUID, body: StatusIn
) -> StatusOut:
    record = await svc.status.set_by_authority(
        principal.person_id,
        person_id,
        colour=body.colour,
        reason=body.reason,
        valid_until=body.valid_until,
        note=body.note,
    )
    return StatusOut(
        person_id=record.person_id,
        colour=record.colour,
        reason=record.reason,
        reason_text=_reason(request, record),
        version=record.version,
        valid_until=record.valid_until,
        updated_at=record.updated_at,
    )


@router.get(
    "/persons/{person_id}/history",
    summary="A person's colour history (health authority)",
    responses=problems(401, 403, 404),
)
async def history(request: Request, svc: ServicesDep, authority: Authority, person_id: UUID) -> HistoryOut:
    rows = await svc.status.history(authority.person_id, person_id)
    language = language_of(request)
    entries = [
        HistoryEntry(
            colour=r.colour,
            reason=r.reason,
            reason_text=reason_text(r.reason, language),
            version=r.version,
            valid_until=r.valid_until,
            effective_at=r.effective_at,
            recorded_at=r.recorded_at,
            source=r.source.value,
        )
        for r in rows
    ]
    return HistoryOut(person_id=person_id, history=entries)


@router.post(
    "/assisted-lookups",
    summary="Assisted lookup for people aged 60 or over, or 16 or under",
    responses=problems(*BODY, 401, 403, 404, 429, 503),
)
async def assisted_lookup(
    request: Request, svc: ServicesDep, principal: CurrentPrincipal, body: LookupIn
) -> LookupOut:
    answer = await svc.lookup.lookup(principal.person_id, body.name, body.id_number)
    s = answer.shown
    return LookupOut(
        masked_name=answer.masked_name,
        colour=s.colour,
        reason=s.reason,
        reason_text=_reason(request, s),
        token=answer.token,
        token_expires_at=answer.token_expires_at,
        token_qr=_qr_data_url(answer.token),
    )


def _qr_svg(token: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(token, error="m").save(buffer, kind="svg", scale=8, border=4, xmldecl=False)
    return buffer.getvalue()


def _qr_data_url(token: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(_qr_svg(token)).decode()

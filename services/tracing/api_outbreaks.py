"""HTTP routes of outbreak work: exposure analyses (and their exports); thin, like api.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from services.tracing import exports
from services.tracing.api import Epidemiologist
from services.tracing.errors import AnalysisNotFound
from services.tracing.models import AuditAction
from services.tracing.models_outbreaks import ExposureAnalysisIn, ExposureAnalysisOut, OutbreakGraphOut
from services.tracing.services import ServicesDep
from shared.errors import NotFound, problems

# Every route here may answer these (a body malformed or too large, no or a bad token, the wrong
# role, an unknown id, a rule in the way, a bad value, a dependency down), all as problem+json.
router = APIRouter(
    prefix="/api/tracing/v1",
    tags=["tracing: outbreaks"],
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)


def stored_id(raw: str, missing: Callable[[], NotFound]) -> UUID:
    """The id in a path; one that is not a UUID names nothing stored (404, not 422)."""
    try:
        return UUID(raw)
    except ValueError as exc:
        raise missing() from exc


def analysis_key(raw: str) -> UUID:
    return stored_id(raw, AnalysisNotFound)


@router.post(
    "/exposure-analyses",
    status_code=201,
    response_model=ExposureAnalysisOut,
    response_model_by_alias=True,
)
async def analyse_exposures(
    body: ExposureAnalysisIn, who: Epidemiologist, s: ServicesDep
) -> ExposureAnalysisOut:
    analysis = await s.outbreaks.analyse(
        who.person_id,
        body.person_ids,
        body.from_,
        body.to,
        gap_minutes=body.gap_minutes,
        dwell_minutes=body.dwell_minutes,
    )
    return ExposureAnalysisOut.of(analysis)


def _download(content: str | bytes, media_type: str, name: str) -> Response:
    body = content.encode("utf-8") if isinstance(content, str) else content
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


CSV = "text/csv; charset=utf-8"
GRAPHML = "application/graphml+xml"
# The downloads' media types, for the OpenAPI document.
AS_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV with a BOM"}
}
AS_GRAPHML: dict[int | str, dict[str, Any]] = {200: {"content": {GRAPHML: {}}, "description": "GraphML"}}


@router.get("/exposure-analyses/{analysis_id}.csv", response_class=Response, responses=AS_CSV)
async def export_exposures(analysis_id: str, who: Epidemiologist, s: ServicesDep) -> Response:
    key = analysis_key(analysis_id)
    analysis = await s.outbreaks.show(who.person_id, key, action=AuditAction.OUTBREAK_EXPORT)
    return _download(exports.exposures_csv(analysis), CSV, f"exposures-{key}.csv")


@router.get("/exposure-analyses/{analysis_id}/graph", response_model=OutbreakGraphOut)
async def outbreak_graph(analysis_id: str, who: Epidemiologist, s: ServicesDep) -> OutbreakGraphOut:
    return OutbreakGraphOut.of(await s.outbreaks.graph(who.person_id, analysis_key(analysis_id)))


@router.get("/exposure-analyses/{analysis_id}/graph.csv", response_class=Response, responses=AS_CSV)
async def export_graph_csv(analysis_id: str, who: Epidemiologist, s: ServicesDep) -> Response:
    key = analysis_key(analysis_id)
    graph = await s.outbreaks.graph(who.person_id, key)
    return _download(exports.edges_csv(graph), CSV, f"contacts-{key}.csv")


@router.get("/exposure-analyses/{analysis_id}/graph.graphml", response_class=Response, responses=AS_GRAPHML)
async def export_graphml(analysis_id: str, who: Epidemiologist, s: ServicesDep) -> Response:
    key = analysis_key(analysis_id)
    graph = await s.outbreaks.graph(who.person_id, key)
    return _download(exports.graphml(graph), GRAPHML, f"outbreak-{key}.graphml")


@router.get(
    "/exposure-analyses/{analysis_id}", response_model=ExposureAnalysisOut, response_model_by_alias=True
)
async def show_exposure_analysis(
    analysis_id: str, who: Epidemiologist, s: ServicesDep
) -> ExposureAnalysisOut:
    return ExposureAnalysisOut.of(await s.outbreaks.show(who.person_id, analysis_key(analysis_id)))

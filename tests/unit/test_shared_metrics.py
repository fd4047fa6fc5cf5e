"""shared.metrics: a request is counted under its route's template, the one its router chose."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI
from prometheus_client import REGISTRY

from shared.metrics import MetricsMiddleware


def requests_counted(service: str, method: str, route: str, status: str) -> float:
    labels = {"service": service, "method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("venuecode_http_requests_total", labels) or 0.0


async def test_a_request_is_counted_under_the_template_of_its_route_not_its_path() -> None:
    # As the services are built: an APIRouter with its prefix, included in the app. FastAPI's
    # included routers have no path of their own, so a label read from the app's routes was
    # "other" for every API route.
    router = APIRouter(prefix="/api/metered/v1")

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"thing": thing_id}

    app = FastAPI()
    app.include_router(router)
    app.add_middleware(MetricsMiddleware, service="metered")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/api/metered/v1/things/1")).status_code == 200
        assert (await client.get("/api/metered/v1/things/2")).status_code == 200
        assert (await client.get("/api/metered/v1/nothing")).status_code == 404

    assert requests_counted("metered", "GET", "/api/metered/v1/things/{thing_id}", "200") == 2
    assert requests_counted("metered", "GET", "unmatched", "404") == 1
    assert requests_counted("metered", "GET", "other", "200") == 0

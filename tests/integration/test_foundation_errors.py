"""shared.web: every error answer of a service app is problem+json, and a 500 tells nothing inside."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from shared.errors import PROBLEM_JSON, Conflict
from shared.web import MAX_BODY_BYTES, service_app

SECRET = "44078219900101123X"


class Item(BaseModel):
    name: str = Field(min_length=1)
    count: int = Field(ge=0)


class ItemTaken(Conflict):
    title, slug = "The item exists", "item-taken"


def _app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    app = service_app("probe", lifespan)

    @app.post("/api/probe/v1/items", status_code=201)
    async def create(item: Item) -> dict[str, Any]:
        if item.name == "taken":
            raise ItemTaken("An item with this name exists.")
        return item.model_dump()

    @app.get("/api/probe/v1/boom")
    async def boom() -> None:
        raise RuntimeError(f"database said: duplicate key {SECRET}")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = _app()
    async with app.router.lifespan_context(app):
        # raise_app_exceptions=False: see the 500 the client sees, not the re-raised exception.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    return body


async def test_success_is_plain_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/probe/v1/items", json={"name": "a", "count": 1})
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"


async def test_404_unknown_path(client: httpx.AsyncClient) -> None:
    _problem(await client.get("/api/probe/v1/nothing-here"), 404)


async def test_405_wrong_method(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/probe/v1/items")
    _problem(response, 405)


async def test_400_malformed_json(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    _problem(await client.post("/api/probe/v1/items", content=b'{"name": "a",', headers=headers), 400)
    _problem(await client.post("/api/probe/v1/items", content=b"[1, 2]", headers=headers), 400)


async def test_422_validation_names_the_fields(client: httpx.AsyncClient) -> None:
    body = _problem(await client.post("/api/probe/v1/items", json={"name": "", "count": -1}), 422)
    assert {e["field"] for e in body["errors"]} == {"name", "count"}
    assert all(e["message"] for e in body["errors"])


async def test_409_named_rule(client: httpx.AsyncClient) -> None:
    body = _problem(await client.post("/api/probe/v1/items", json={"name": "taken", "count": 1}), 409)
    assert body["type"].endswith("/item-taken")


async def test_413_oversized_body_with_and_without_length(client: httpx.AsyncClient) -> None:
    big = b'{"name": "' + b"x" * (MAX_BODY_BYTES + 1) + b'", "count": 1}'
    headers = {"content-type": "application/json"}
    _problem(await client.post("/api/probe/v1/items", content=big, headers=headers), 413)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    _problem(await client.post("/api/probe/v1/items", content=chunks(), headers=headers), 413)


async def test_500_hides_the_error(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/probe/v1/boom")
    body = _problem(response, 500)
    assert SECRET not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    # No Accept-Language: Simplified Chinese (shared/i18n.py); in English on asking.
    assert body["detail"] == "发生了意外错误。"
    english = await client.get("/api/probe/v1/boom", headers={"Accept-Language": "en"})
    assert english.json()["detail"] == "An unexpected error occurred."


async def test_health_metrics_and_openapi_under_the_prefix(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/probe/healthz")).json() == {"status": "ok"}
    assert (await client.get("/api/probe/metrics")).status_code == 200
    assert "/api/probe/v1/items" in (await client.get("/api/probe/openapi.json")).json()["paths"]

"""Check-outs and closing time: open visits end and checkout.recorded reaches the topic."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from shared.settings import InfraSettings
from tests.integration.checkin.kit import (
    World,
    bearer,
    body_of,
    checkin_events,
    runtime,
    venue_token,
)
from tests.waiting import eventually

SCANS = "/api/checkin/v1/scans"
CHECKOUTS = "/api/checkin/v1/checkouts"


async def _scan(
    app: FastAPI,
    client: httpx.AsyncClient,
    infra: InfraSettings,
    caller: uuid.UUID,
    *people: uuid.UUID,
    venue: uuid.UUID,
) -> None:
    payload: dict[str, object] = {"venue_token": venue_token(app, venue)}
    if people:
        payload["person_ids"] = [str(p) for p in people]
    response = await client.post(
        SCANS, json=payload, headers={**bearer(infra, caller), "Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status_code == 201, response.text


async def test_checkout_ends_the_callers_and_dependents_visits(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    await _scan(app, client, infra, world.citizen, world.citizen, world.child, venue=world.venue_id)
    token = venue_token(app, world.venue_id)
    response = await client.post(CHECKOUTS, json={"venue_token": token}, headers=bearer(infra, world.citizen))
    assert response.status_code == 201, response.text
    left = {c["person_id"] for c in body_of(response)["checkouts"]}
    assert left == {str(world.citizen), str(world.child)}
    outs = [e for e in await checkin_events(infra) if e.type == "checkout.recorded"]
    assert {e.data.person_id for e in outs} == {world.citizen, world.child}
    assert all(e.data.venue_id == world.venue_id for e in outs)
    # Nobody is inside any more: a second check-out ends nothing.
    again = await client.post(CHECKOUTS, json={"venue_token": token}, headers=bearer(infra, world.citizen))
    assert body_of(again)["checkouts"] == []


async def test_checkout_of_named_people_only_and_never_of_strangers(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    await _scan(app, client, infra, world.citizen, world.citizen, world.child, venue=world.venue_id)
    token = venue_token(app, world.venue_id)
    refused = await client.post(
        CHECKOUTS,
        json={"venue_token": token, "person_ids": [str(world.stranger)]},
        headers=bearer(infra, world.citizen),
    )
    assert refused.status_code == 403
    response = await client.post(
        CHECKOUTS,
        json={"venue_token": token, "person_ids": [str(world.child)]},
        headers=bearer(infra, world.citizen),
    )
    assert [c["person_id"] for c in body_of(response)["checkouts"]] == [str(world.child)]


async def test_closing_time_checks_everyone_out(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    await _scan(app, client, infra, world.citizen, world.citizen, world.child, venue=world.venue_id)
    await _scan(app, client, infra, world.stranger, venue=world.venue_id)
    close = f"/api/checkin/v1/venues/{world.venue_id}/close"
    for outsider in (world.citizen, world.stranger):
        assert (await client.post(close, headers=bearer(infra, outsider))).status_code == 403
    unknown = await client.post(
        f"/api/checkin/v1/venues/{uuid.uuid4()}/close", headers=bearer(infra, world.admin)
    )
    assert unknown.status_code == 404
    response = await client.post(close, headers=bearer(infra, world.admin))
    assert response.status_code == 202, response.text
    outs = [e for e in await checkin_events(infra) if e.type == "checkout.recorded"]
    assert {e.data.person_id for e in outs} == {world.citizen, world.child, world.stranger}
    # A bound inspector may close too; nobody is left.
    again = await client.post(close, headers=bearer(infra, world.inspector))
    assert again.status_code == 202
    assert len([e for e in await checkin_events(infra) if e.type == "checkout.recorded"]) == 3


async def test_my_people_lists_the_caller_then_dependents(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    response = await client.get("/api/checkin/v1/me/people", headers=bearer(infra, world.citizen))
    assert response.status_code == 200
    people = body_of(response)["people"]
    assert [(p["person_id"], p["self"]) for p in people] == [
        (str(world.citizen), True),
        (str(world.child), False),
    ]
    assert people[1]["relation"] == "child"
    assert runtime(app).pool is not None


async def test_health_readiness_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/checkin/healthz")).status_code == 200

    async def ready() -> dict[str, object] | None:
        # Readiness may lag the lifespan by a moment (the broker's first metadata round).
        answer = await client.get("/api/checkin/readyz")
        return body_of(answer) if answer.status_code == 200 else None

    assert (await eventually(ready))["checks"] == {
        "redis": True,
        "kafka": True,
        "consumers": True,
        "postgres": True,
    }
    paths = body_of(await client.get("/api/checkin/openapi.json"))["paths"]
    for path in ("/scans", "/checkouts", "/venues/{venue_id}/close", "/inspections", "/me/people"):
        assert f"/api/checkin/v1{path}" in paths

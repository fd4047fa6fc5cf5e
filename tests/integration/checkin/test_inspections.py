"""POST /inspections: an inspector's reverse scan of a health code, against the real servers."""

from __future__ import annotations

import time

import httpx
from fastapi import FastAPI

from shared.colours import CachedColour, mark_warm, write_colours
from shared.errors import PROBLEM_JSON, TYPE_BASE
from shared.events import InspectorBindingData, InspectorUnbound, PaperCodeIssued, PaperCodeIssuedData
from shared.settings import InfraSettings
from tests.integration.checkin.kit import (
    World,
    applied,
    bearer,
    body_of,
    checkin_events,
    recorded,
    runtime,
    send_registry,
    send_status,
)

INSPECTIONS = "/api/checkin/v1/inspections"


async def test_dynamic_code_records_an_inspector_scan_with_masked_identity(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    rt = runtime(app)
    await write_colours(
        rt.redis, infra.redis.key_prefix, {world.citizen: CachedColour("red", "confirmed_case", 2)}
    )
    await mark_warm(rt.redis, infra.redis.key_prefix)
    token, _ = rt.signer.health_code(world.citizen)
    response = await client.post(
        INSPECTIONS,
        json={
            "venue_id": str(world.venue_id),
            "health_code_token": token,
            "temperature_band": "fever",
            "fever_acknowledged": True,
        },
        headers=bearer(infra, world.inspector),
    )
    assert response.status_code == 201, response.text
    body = body_of(response)
    assert body["person_id"] == str(world.citizen)
    assert (body["masked_name"], body["masked_id"]) == ("張*明", "4401**********123X")
    assert (body["colour"], body["reason"], body["reason_text"]) == (
        "red",
        "confirmed_case",
        "Confirmed case",
    )
    [event] = await recorded(infra)
    assert event.type == "checkin.recorded"
    assert str(event.data.checkin_id) == body["checkin_id"]
    assert event.data.method == "inspector_scan"
    assert event.data.temperature_band == "fever"
    assert event.data.inspector_id == world.inspector
    assert event.data.colour_at_checkin == "red"


async def test_paper_code_records_paper_code(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    # No paper_code.issued reached checkin for the child yet: the card is accepted.
    token = runtime(app).signer.paper_code(world.child, 1)
    response = await client.post(
        INSPECTIONS,
        json={"venue_id": str(world.venue_id), "health_code_token": token, "temperature_band": "normal"},
        headers=bearer(infra, world.inspector),
    )
    assert response.status_code == 201, response.text
    [event] = await recorded(infra)
    assert event.data.method == "paper_code"
    assert event.data.person_id == world.child


async def test_a_paper_code_below_the_known_serial_is_refused_like_status_refuses_it(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    issued = PaperCodeIssued(data=PaperCodeIssuedData(person_id=world.child, serial=2))
    await send_status(app, [issued], key=str(world.child).encode())
    await applied(app, [issued])
    signer = runtime(app).signer
    headers = bearer(infra, world.inspector)
    base = {"venue_id": str(world.venue_id), "temperature_band": "normal"}

    revoked = signer.paper_code(world.child, 1)
    response = await client.post(INSPECTIONS, json={**base, "health_code_token": revoked}, headers=headers)
    assert response.status_code == 410, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = body_of(response)
    assert (problem["type"], problem["status"]) == (TYPE_BASE + "gone", 410)
    assert "replaced by a newer one" in problem["detail"]
    assert await checkin_events(infra) == []

    # The current card, and a newer one whose event has not arrived yet, are accepted.
    for serial in (2, 3):
        card = signer.paper_code(world.child, serial)
        response = await client.post(INSPECTIONS, json={**base, "health_code_token": card}, headers=headers)
        assert response.status_code == 201, response.text
    assert [e.data.method for e in await recorded(infra)] == ["paper_code", "paper_code"]


async def test_only_a_bound_inspector_may_scan(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    token, _ = runtime(app).signer.health_code(world.citizen)
    payload = {"venue_id": str(world.venue_id), "health_code_token": token, "temperature_band": "normal"}
    for outsider in (world.stranger, world.citizen):
        response = await client.post(INSPECTIONS, json=payload, headers=bearer(infra, outsider))
        assert response.status_code == 403
    unbound = InspectorUnbound(data=InspectorBindingData(venue_id=world.venue_id, person_id=world.inspector))
    await send_registry(app, [unbound], key=str(world.venue_id).encode())
    await applied(app, [unbound])
    response = await client.post(INSPECTIONS, json=payload, headers=bearer(infra, world.inspector))
    assert response.status_code == 403
    assert await checkin_events(infra) == []


async def test_forged_code_is_422_and_expired_code_is_410(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    signer = runtime(app).signer
    token, _ = signer.health_code(world.citizen)
    forged = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    headers = bearer(infra, world.inspector)
    base = {"venue_id": str(world.venue_id), "temperature_band": "normal"}
    response = await client.post(INSPECTIONS, json={**base, "health_code_token": forged}, headers=headers)
    assert response.status_code == 422
    assert [e["field"] for e in body_of(response)["errors"]] == ["health_code_token"]
    expired, _ = signer.health_code(world.citizen, now=time.time() - 120)
    response = await client.post(INSPECTIONS, json={**base, "health_code_token": expired}, headers=headers)
    assert response.status_code == 410
    bad_band = await client.post(
        INSPECTIONS, json={**base, "health_code_token": token, "temperature_band": "hot"}, headers=headers
    )
    assert bad_band.status_code == 422
    assert await checkin_events(infra) == []


async def test_a_fever_is_refused_until_the_inspector_acknowledges_it(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    token, _ = runtime(app).signer.health_code(world.citizen)
    headers = bearer(infra, world.inspector)
    fever = {"venue_id": str(world.venue_id), "health_code_token": token, "temperature_band": "fever"}
    for unacknowledged in (fever, {**fever, "fever_acknowledged": False}):
        response = await client.post(INSPECTIONS, json=unacknowledged, headers=headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
        problem = body_of(response)
        assert [e["field"] for e in problem["errors"]] == ["fever_acknowledged"]
        assert problem["detail"].startswith("fever_acknowledged: ")
    assert await checkin_events(infra) == []

    # A normal reading needs no acknowledgement; an acknowledged fever is recorded as a fever.
    normal = await client.post(INSPECTIONS, json={**fever, "temperature_band": "normal"}, headers=headers)
    assert normal.status_code == 201, normal.text
    acknowledged = await client.post(INSPECTIONS, json={**fever, "fever_acknowledged": True}, headers=headers)
    assert acknowledged.status_code == 201, acknowledged.text
    assert [e.data.temperature_band for e in await recorded(infra)] == ["normal", "fever"]


async def test_the_caller_s_inspector_venues_for_the_assisted_lookup_page(
    client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    mine = await client.get("/api/checkin/v1/me/inspector-venues", headers=bearer(infra, world.inspector))
    assert mine.status_code == 200, mine.text
    assert body_of(mine) == {"venues": [{"venue_id": str(world.venue_id), "name": world.venue_name}]}
    none = await client.get("/api/checkin/v1/me/inspector-venues", headers=bearer(infra, world.stranger))
    assert body_of(none) == {"venues": []}
    assert (await client.get("/api/checkin/v1/me/inspector-venues")).status_code == 401

"""POST /scans with ``scanned_at`` (an addition to API.md): the time every attempt of a scan
carries becomes its checked_in_at, on the answer and on the event, within the bound only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from services.checkin.scantime import MAX_AGE, MAX_AHEAD
from shared.settings import InfraSettings
from tests.integration.checkin.kit import World, bearer, body_of, checkin_events, recorded, venue_token

SCANS = "/api/checkin/v1/scans"


async def scan(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings, at: str
) -> httpx.Response:
    return await client.post(
        SCANS,
        json={"venue_token": venue_token(app, world.venue_id), "scanned_at": at},
        headers={**bearer(infra, world.citizen), "Idempotency-Key": uuid.uuid4().hex},
    )


async def test_a_scan_time_within_the_bound_is_the_check_in_time(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    at = (datetime.now(UTC) - timedelta(minutes=7)).replace(microsecond=123456)
    response = await scan(app, client, world, infra, at.astimezone().isoformat())
    assert response.status_code == 201, response.text
    [checkin] = body_of(response)["checkins"]
    expected = at.replace(microsecond=123000)  # to the millisecond
    assert datetime.fromisoformat(checkin["checked_in_at"]) == expected
    [event] = await recorded(infra)
    assert event.data.checked_in_at == expected


async def test_a_scan_time_outside_the_bound_gives_way_to_the_server_clock(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    for wrong in (datetime.now(UTC) - MAX_AGE - timedelta(minutes=1), datetime.now(UTC) + MAX_AHEAD * 2):
        before = datetime.now(UTC) - timedelta(seconds=1)
        response = await scan(app, client, world, infra, wrong.isoformat())
        assert response.status_code == 201, response.text
        [checkin] = body_of(response)["checkins"]
        assert before <= datetime.fromisoformat(checkin["checked_in_at"]) <= datetime.now(UTC)


async def test_a_scan_time_without_an_offset_is_422_naming_the_field(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    response = await scan(app, client, world, infra, "2026-12-06T10:00:00")
    assert response.status_code == 422
    assert [e["field"] for e in body_of(response)["errors"]] == ["scanned_at"]
    assert await checkin_events(infra) == []

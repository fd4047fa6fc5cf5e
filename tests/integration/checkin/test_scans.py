"""POST /scans against real Postgres, Redis and Kafka: the rules of a venue-code scan."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from shared.settings import InfraSettings
from tests.integration.checkin.kit import World, bearer, body_of, checkin_events, venue_token

SCANS = "/api/checkin/v1/scans"


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def test_self_scan_is_recorded_with_its_event(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    response = await client.post(
        SCANS,
        json={"venue_token": venue_token(app, world.venue_id)},
        headers={**bearer(infra, world.citizen), **key()},
    )
    assert response.status_code == 201, response.text
    body = body_of(response)
    assert body["venue"] == {"venue_id": str(world.venue_id), "name": world.venue_name}
    [checkin] = body["checkins"]
    assert checkin["person_id"] == str(world.citizen)
    assert checkin["masked_name"] == "張*明"
    events = await checkin_events(infra)
    assert len(events) == 1
    assert events[0].type == "checkin.recorded"
    assert str(events[0].data.checkin_id) == checkin["checkin_id"]
    assert events[0].data.method == "self_scan"

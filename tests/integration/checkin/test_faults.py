"""A check-in is never lost to a fault: Redis unreachable, or the broker down and back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.checkin.app import create_app
from services.checkin.config import Settings
from services.embedded import EmbeddedStack, free_port
from shared.events import CHECKINS_TOPIC, REGISTRY_TOPIC
from shared.kafka import ensure_topics
from shared.settings import InfraSettings
from tests.integration.checkin.kit import bearer, body_of, build_world, recorded, venue_token

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
SCANS = "/api/checkin/v1/scans"


async def test_redis_unreachable_still_records_with_colour_unknown(
    infra: InfraSettings, serve: Serve
) -> None:
    closed = infra.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    app = create_app(Settings(infra=closed))
    async with serve(app) as client:
        world = await build_world(app)
        response = await client.post(
            SCANS,
            json={
                "venue_token": venue_token(app, world.venue_id),
                "person_ids": [str(world.citizen), str(world.child)],
            },
            headers={**bearer(infra, world.citizen), "Idempotency-Key": uuid.uuid4().hex},
        )
        assert response.status_code == 201, response.text
        checkins = body_of(response)["checkins"]
        assert [c["colour"] for c in checkins] == ["unknown", "unknown"]
        assert checkins[0]["reason"] == "unknown"
        events = await recorded(infra)
        assert sorted(e.data.colour_at_checkin for e in events) == ["unknown", "unknown"]
        assert {str(e.data.checkin_id) for e in events} == {c["checkin_id"] for c in checkins}


@pytest.mark.faults
async def test_broker_down_is_503_and_the_retry_records_exactly_once(
    infra: InfraSettings, serve: Serve, tmp_path: Path
) -> None:
    port = free_port()
    broker = EmbeddedStack(tmp_path / "before", postgres=False, redis=False, kafka_port=port).start()
    try:
        private = infra.model_copy(update={"kafka_bootstrap": broker.kafka_bootstrap})
        app = create_app(Settings(infra=private))
        async with serve(app) as client:
            world = await build_world(app)
            headers = {**bearer(infra, world.citizen), "Idempotency-Key": uuid.uuid4().hex}
            payload = {"venue_token": venue_token(app, world.venue_id)}
            broker.stop()
            down = await client.post(SCANS, json=payload, headers=headers)
            assert down.status_code == 503
            assert int(down.headers["Retry-After"]) >= 1

            broker = EmbeddedStack(tmp_path / "after", postgres=False, redis=False, kafka_port=port).start()
            await ensure_topics(private.kafka, [CHECKINS_TOPIC, REGISTRY_TOPIC])
            deadline = time.monotonic() + 60
            retry = await client.post(SCANS, json=payload, headers=headers)
            while retry.status_code == 503 and time.monotonic() < deadline:
                retry = await client.post(SCANS, json=payload, headers=headers)
            assert retry.status_code == 201, retry.text
            replay = await client.post(SCANS, json=payload, headers=headers)
            assert replay.status_code == 200
            assert replay.json() == retry.json()
            events = await recorded(private)
            [checkin] = body_of(retry)["checkins"]
            # The producer may still deliver the send that timed out once the broker is back
            # (at-least-once); it carries the same event id and checkin_id as the retry, so
            # every consumer, deduplicating by them, records the check-in exactly once.
            assert events, "the retried check-in is not on the topic"
            assert {str(e.data.checkin_id) for e in events} == {checkin["checkin_id"]}
            assert len({e.event_id for e in events}) == 1
            # ... and the same check-in time: the retry reuses the unsure attempt's, so even a
            # store keyed by (checked_in_at, checkin_id) keeps one row.
            assert {e.data.checked_in_at.isoformat() for e in events} == {checkin["checked_in_at"]}
    finally:
        broker.stop()

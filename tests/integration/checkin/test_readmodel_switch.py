"""VENUECODE_CHECKIN_READMODEL_CONSUMER=false: an HTTP-only checkin process joins no consumer
group, and answers from the read model that a consuming process keeps (k8s: checkin-readmodel).
"""

from __future__ import annotations

import os
import uuid
from unittest import mock

import httpx
from fastapi import FastAPI

from services.checkin.app import create_app
from services.checkin.config import Settings
from shared.events import VenueRenamed, VenueRenamedData
from shared.settings import InfraSettings
from tests.integration.checkin.conftest import Serve
from tests.integration.checkin.kit import (
    World,
    applied,
    bearer,
    body_of,
    send_registry,
    services,
    venue_token,
)


def test_the_switch_is_read_from_the_environment() -> None:
    with mock.patch.dict(os.environ, {"VENUECODE_CHECKIN_READMODEL_CONSUMER": "false"}):
        assert Settings().readmodel_consumer is False
    assert Settings().readmodel_consumer is True


async def test_an_http_only_process_consumes_nothing_and_reads_what_the_consumer_applied(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings, serve: Serve
) -> None:
    http_only = create_app(Settings(infra=infra, readmodel_consumer=False))
    async with serve(http_only) as front:
        assert list(http_only.state.services.runtime.router.broker.subscribers) == []
        assert len(list(app.state.services.runtime.router.broker.subscribers)) == 2

        renamed = VenueRenamed(data=VenueRenamedData(venue_id=world.venue_id, name="Harbour Hall 海港廳"))
        await send_registry(app, [renamed], key=str(world.venue_id).encode())
        await applied(app, [renamed])
        # The front's own poll reads the change within VENUECODE_CHECKIN_READMODEL_POLL_S; run it now.
        await services(http_only).memory.refresh()
        response = await front.post(
            "/api/checkin/v1/scans",
            json={"venue_token": venue_token(app, world.venue_id)},
            headers={**bearer(infra, world.citizen), "Idempotency-Key": uuid.uuid4().hex},
        )
        assert response.status_code == 201, response.text
        assert body_of(response)["venue"]["name"] == "Harbour Hall 海港廳"

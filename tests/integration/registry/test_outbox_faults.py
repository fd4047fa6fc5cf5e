"""With the broker down the answer is 503, the change is kept, and the outbox sends it later.

Runs against a private tansu broker that the test stops and starts (never the shared one).
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from services.embedded import EmbeddedStack, free_port
from services.registry.app import create_app
from services.registry.config import Settings
from shared.events import REGISTRY_TOPIC
from shared.kafka import ensure_topics
from tests.integration.registry.conftest import end_offsets
from tests.unit.registry.idgen import mainland_id
from tests.waiting import eventually

pytestmark = pytest.mark.faults


def account(number: str) -> dict[str, str]:
    return {
        "name": "張三明",
        "id_kind": "mainland_id",
        "id_number": number,
        "phone": "13800138000",
        "password": "correct horse",
    }


async def unsent(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM registry.outbox WHERE sent_at IS NULL"))


async def test_broker_down_answers_503_and_the_relay_catches_up(infra, serve, tmp_path):
    port = free_port()
    broker = await asyncio.to_thread(
        EmbeddedStack(tmp_path / "a", postgres=False, redis=False, kafka_port=port).start
    )
    private = infra.model_copy(update={"kafka_bootstrap": broker.kafka_bootstrap})
    app = create_app(Settings(infra=private, outbox_relay_interval_s=0.2))
    conn = await asyncpg.connect(infra.postgres_url)
    try:
        async with serve(app) as client:
            assert (
                await client.post("/api/registry/v1/accounts", json=account(mainland_id()))
            ).status_code == 201
            await asyncio.to_thread(broker.stop)

            number = mainland_id()
            down = await client.post("/api/registry/v1/accounts", json=account(number))
            assert down.status_code == 503
            assert int(down.headers["Retry-After"]) >= 1
            # The account is committed: registering again is a conflict, and its event waits.
            assert (await client.post("/api/registry/v1/accounts", json=account(number))).status_code == 409
            assert await unsent(conn) == 1

            broker = await asyncio.to_thread(
                EmbeddedStack(tmp_path / "b", postgres=False, redis=False, kafka_port=port).start
            )
            await ensure_topics(private.kafka, [REGISTRY_TOPIC])  # memory storage forgot the topic
            await eventually(
                lambda: conn.fetchval("SELECT count(*) = 0 FROM registry.outbox WHERE sent_at IS NULL"),
                timeout_s=60,
                interval_s=0.2,
                what="the relay sent the row the broker missed",
            )
            # The broker acknowledged it (acks=all). Reading it back is not asserted: a restarted
            # in-memory tansu also receives aiokafka's retried stale batch, and its fetch stalls
            # on that partition; a real Kafka keeps its log across restarts.
            assert await end_offsets(private) >= 1
    finally:
        await conn.close()
        await asyncio.to_thread(broker.stop)

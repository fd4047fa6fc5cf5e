"""readyz really checks Postgres, Redis and Kafka: 200 when all answer, 503 problem+json when one is down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.embedded import EmbeddedStack, free_port
from shared.errors import PROBLEM_JSON
from shared.events import CHECKINS_TOPIC, topic
from shared.kafka import make_router
from shared.runtime import open_runtime
from shared.settings import InfraSettings
from shared.web import service_app

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
# aiokafka notices a dead broker on its next metadata or ping round trip; 30 s bounds the wait.
OUTAGE_NOTICED_WITHIN_S = 30.0


def probe_app(infra: InfraSettings, *, consumes: bool = False) -> FastAPI:
    """A service built like the four: open_runtime with a schema, Redis and the broker
    (``consumes``: and a subscriber to the check-ins, as checkin, status and tracing have)."""
    router = make_router(infra.kafka, "probe")
    if consumes:

        @router.subscriber(
            topic(CHECKINS_TOPIC, infra.kafka.namespace), group_id=f"{infra.kafka.namespace}probe"
        )
        async def on_checkin(body: bytes) -> None:
            return None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(
            app, infra, router=router, schema="probe", migrations=None, topics=[CHECKINS_TOPIC]
        ) as runtime:
            app.state.runtime = runtime
            yield

    app = service_app("probe", lifespan)
    app.include_router(router)
    return app


def _assert_unavailable(response: httpx.Response, down: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["status"] == 503
    assert down in body["detail"]


async def test_ready_when_everything_answers(infra: InfraSettings, serve: Serve) -> None:
    async with serve(probe_app(infra)) as client:
        response = await client.get("/api/probe/readyz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ready",
            "checks": {"postgres": True, "redis": True, "kafka": True},
        }
        assert (await client.get("/api/probe/healthz")).status_code == 200


async def test_503_when_redis_is_unreachable(infra: InfraSettings, serve: Serve) -> None:
    closed = infra.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with serve(probe_app(closed)) as client:
        started = time.monotonic()
        response = await client.get("/api/probe/readyz")
        assert time.monotonic() - started < 10  # readiness must not hang on a dead dependency
        _assert_unavailable(response, "redis")
        assert (await client.get("/api/probe/healthz")).status_code == 200  # alive, just not ready


async def test_503_when_the_broker_goes_away(infra: InfraSettings, serve: Serve, tmp_path: Path) -> None:
    broker = EmbeddedStack(tmp_path, postgres=False, redis=False, kafka=True).start()
    try:
        private = infra.model_copy(update={"kafka_bootstrap": broker.kafka_bootstrap})
        async with serve(probe_app(private)) as client:
            assert (await client.get("/api/probe/readyz")).status_code == 200
            broker.stop()
            deadline = time.monotonic() + OUTAGE_NOTICED_WITHIN_S
            response = await client.get("/api/probe/readyz")
            while response.status_code == 200 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                response = await client.get("/api/probe/readyz")
            _assert_unavailable(response, "kafka")
    finally:
        broker.stop()


async def test_503_naming_the_topic_when_a_subscriber_stopped_consuming(
    infra: InfraSettings, serve: Serve
) -> None:
    app = probe_app(infra, consumes=True)
    async with serve(app) as client:
        response = await client.get("/api/probe/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["checks"] == {
            "postgres": True,
            "redis": True,
            "kafka": True,
            "consumers": True,
        }

        # What a handler raising CancelledError does: FastStream restarts a failed consuming
        # task, never a cancelled one, and the replica keeps its partitions.
        [subscriber] = app.state.runtime.router.broker.subscribers
        for task in subscriber.tasks:
            task.cancel()
        await asyncio.sleep(0.1)
        response = await client.get("/api/probe/readyz")
        _assert_unavailable(
            response, f"consumers: nothing consumes {topic(CHECKINS_TOPIC, infra.kafka.namespace)}"
        )
        assert (await client.get("/api/probe/healthz")).status_code == 200

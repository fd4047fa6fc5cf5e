"""Real infrastructure for the tests: Postgres, Redis and Kafka, started once per session.

URLs come from the environment when set (``VENUECODE_POSTGRES_URL``,
``VENUECODE_REDIS_URL``, ``VENUECODE_KAFKA_BOOTSTRAP``; on these machines the
local Postgres and Redis and the tansu broker that ``make test`` starts);
otherwise the embedded servers of ``services.embedded`` are started. Each test
gets its own database, topic namespace and Redis key prefix.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from shared.db import with_database
from shared.settings import InfraSettings
from tests import containers


@dataclass(frozen=True)
class Stack:
    postgres_url: str  # an admin connection: tests create their databases through it
    redis_url: str
    kafka_bootstrap: str
    # Real Kafka (testcontainers) runs the idempotent producer as production does; tansu cannot.
    idempotent_producer: bool = False


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if containers.wanted():
        why = containers.engine_unavailable()
        if why is not None:
            pytest.skip(why)
        with containers.containers() as running:
            yield Stack(
                running.postgres_url, running.redis_url, running.kafka_bootstrap, idempotent_producer=True
            )
        return
    env = os.environ
    wanted = {
        "postgres": env.get("VENUECODE_POSTGRES_URL"),
        "redis": env.get("VENUECODE_REDIS_URL"),
        "kafka": env.get("VENUECODE_KAFKA_BOOTSTRAP"),
    }
    if all(wanted.values()):
        yield Stack(wanted["postgres"], wanted["redis"], wanted["kafka"])  # type: ignore[arg-type]
        return
    from services.embedded import EmbeddedStack

    embedded = EmbeddedStack(
        tmp_path_factory.mktemp("embedded"),
        postgres=wanted["postgres"] is None,
        redis=wanted["redis"] is None,
        kafka=wanted["kafka"] is None,
    )
    embedded.start()
    try:
        yield Stack(
            wanted["postgres"] or embedded.postgres_url,
            wanted["redis"] or embedded.redis_url,
            wanted["kafka"] or embedded.kafka_bootstrap,
        )
    finally:
        embedded.stop()


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One set of development keys for the whole run."""
    return tmp_path_factory.mktemp("state")


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
async def database_url(stack: Stack, unique: str) -> AsyncIterator[str]:
    """A fresh, empty database for this test, dropped afterwards."""
    name = f"vc_test_{unique}"
    admin = await asyncpg.connect(stack.postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(stack.postgres_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def infra(stack: Stack, database_url: str, state_dir: Path, unique: str) -> InfraSettings:
    """Settings that point at this test's own database, topics and Redis keys."""
    return InfraSettings(
        env="test",
        postgres_url=database_url,
        redis_url=stack.redis_url,
        kafka_bootstrap=stack.kafka_bootstrap,
        kafka_namespace=f"t{unique}.",
        kafka_idempotent_producer=stack.idempotent_producer,
        redis_key_prefix=f"t{unique}:",
        # tansu answers a JoinGroup after about half the session timeout: short sessions
        # make every app in a test start in about a second.
        kafka_session_timeout_ms=2_000,
        kafka_heartbeat_interval_ms=500,
        state_dir=state_dir,
        public_base_url="http://testserver",
    )


AppFactory = Callable[..., FastAPI]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (pool, Redis, broker, subscribers) and talk to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def serve() -> Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]:
    return running


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    # Cheap tiers first, so a broken rule fails fast.
    order = {"unit": 0, "integration": 1, "e2e": 2, "browser": 3, "faults": 4}
    items.sort(key=lambda item: next((v for k, v in order.items() if f"/{k}/" in str(item.fspath)), 5))

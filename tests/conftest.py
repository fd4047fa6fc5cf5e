"""Real infrastructure for the tests: Postgres, Redis and Kafka, started once per session.

URLs come from the environment when set (``VENUECODE_POSTGRES_URL``,
``VENUECODE_REDIS_URL``, ``VENUECODE_KAFKA_BOOTSTRAP``; on these machines the
local Postgres and Redis and the tansu broker that ``make test`` starts);
otherwise the embedded servers of ``services.embedded`` are started. Each test
gets its own database, topic namespace and Redis key prefix.

The suites in ``CLUSTER_SUITES`` run twice, as ``[single]`` (one Redis) and ``[cluster]``
(the Redis Cluster of ``VENUECODE_TEST_REDIS_CLUSTER_URL``, else one started for the session).
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
from tests.databases import Dropper, make_template


@dataclass(frozen=True)
class Stack:
    postgres_url: str  # an admin connection: tests create their databases through it
    redis_url: str
    kafka_bootstrap: str
    # Real Kafka (testcontainers) runs the idempotent producer as production does; tansu cannot.
    idempotent_producer: bool = False


# tansu answers a JoinGroup after about half the session timeout, and after 1 s at the least
# (measured: 400 ms and 1 s sessions join in 1 s, 6 s ones in 3 s): short sessions make every
# app in a test start in about a second. For every platform the tests start in this process.
SHORT_SESSIONS: dict[str, Any] = {"kafka_session_timeout_ms": 2_000, "kafka_heartbeat_interval_ms": 500}


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


# The tests that run against one Redis and against a Redis Cluster (issue 13): every checkin and
# status file whose rules touch Redis (scans, caps, open visits, colour writes, the refill, the
# lookup limit), the whole story and the Redis fault test. Pages, the Postgres read models, the
# outbox and the health-code tokens read nothing from Redis that those do not: one run each
# (the cluster runs add about half of these suites' time).
CLUSTER_SUITES = (
    *(
        f"tests/integration/checkin/{name}.py"
        for name in ("test_cache", "test_scans", "test_checkouts", "test_faults", "test_inspections")
    ),
    *(
        f"tests/integration/status/{name}.py"
        for name in ("test_authority", "test_commands", "test_expiry_and_cache", "test_lookup")
    ),
    "tests/e2e/",
    "tests/faults/test_redis_down.py",
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    path = str(metafunc.definition.path)
    if "redis_kind" in metafunc.fixturenames and any(f"/{suite}" in path for suite in CLUSTER_SUITES):
        metafunc.parametrize("redis_kind", ["single", "cluster"], indirect=True)


@pytest.fixture
def redis_kind(request: pytest.FixtureRequest) -> str:
    """``single`` (one Redis) unless the test is one of the cluster suites' ``[cluster]`` runs."""
    return str(getattr(request, "param", "single"))


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seed node of a Redis Cluster: ``make test``'s, else one started for this session."""
    given = os.environ.get("VENUECODE_TEST_REDIS_CLUSTER_URL")
    if given:
        yield given
        return
    from services.redis_cluster import RedisClusterNodes

    if not RedisClusterNodes.available():
        pytest.skip("a Redis Cluster needs redis-server and redis-cli on PATH")
    cluster = RedisClusterNodes(tmp_path_factory.mktemp("redis-cluster")).start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One set of development keys for the whole run."""
    return tmp_path_factory.mktemp("state")


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
async def dropper(stack: Stack) -> AsyncIterator[Dropper]:
    """Drops the tests' databases in the background (``tests/databases.py``)."""
    dropper = Dropper(stack.postgres_url)
    try:
        yield dropper
    finally:
        await dropper.close()


@pytest.fixture(scope="session")
async def template_database(stack: Stack, dropper: Dropper) -> AsyncIterator[str]:
    """A database with every service's migrations applied, which the tests' databases copy."""
    name = f"vc_template_{uuid.uuid4().hex[:12]}"
    try:
        await make_template(stack.postgres_url, name)
        yield name
    finally:
        await dropper.drop(name)


@pytest.fixture
async def database_url(
    stack: Stack, unique: str, template_database: str, dropper: Dropper
) -> AsyncIterator[str]:
    """A fresh database for this test with every service's schema migrated (a copy of the
    session's template: ``tests/databases.py``), dropped afterwards in the background."""
    name = f"vc_test_{unique}"
    admin = await asyncpg.connect(stack.postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    finally:
        await admin.close()
    try:
        yield with_database(stack.postgres_url, name)
    finally:
        await dropper.drop(name)


@pytest.fixture
def infra(
    stack: Stack,
    database_url: str,
    state_dir: Path,
    unique: str,
    redis_kind: str,
    request: pytest.FixtureRequest,
) -> InfraSettings:
    """Settings that point at this test's own database, topics and Redis keys."""
    cluster = redis_kind == "cluster"
    return InfraSettings(
        env="test",
        postgres_url=database_url,
        redis_url=request.getfixturevalue("redis_cluster_url") if cluster else stack.redis_url,
        redis_cluster=cluster,
        kafka_bootstrap=stack.kafka_bootstrap,
        kafka_namespace=f"t{unique}.",
        kafka_idempotent_producer=stack.idempotent_producer,
        redis_key_prefix=f"t{unique}:",
        **SHORT_SESSIONS,
        state_dir=state_dir,
        public_base_url="http://testserver",
    )


AppFactory = Callable[..., FastAPI]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (pool, Redis, broker, subscribers) and talk to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        # The integration tests read English answers; an answer without a language is in
        # Simplified Chinese (shared/i18n.py), which tests/unit/test_messages.py pins.
        english = {"Accept-Language": "en"}
        base = "http://testserver"
        async with httpx.AsyncClient(transport=transport, base_url=base, headers=english) as client:
            yield client


@pytest.fixture
def serve() -> Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]:
    return running


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    # Cheap tiers first, so a broken rule fails fast.
    order = {"unit": 0, "integration": 1, "e2e": 2, "browser": 3, "faults": 4}
    items.sort(key=lambda item: next((v for k, v in order.items() if f"/{k}/" in str(item.fspath)), 5))

"""Topics as infrastructure on the test broker: create and check from settings, the CLI's exit
code, and a production service that creates nothing and names what is missing in readyz.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from shared import topics
from shared.events import CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_COMMANDS_TOPIC, STATUS_TOPIC, dlq, topic
from shared.keys import private_to_pem
from shared.settings import Environment, InfraSettings, KafkaSettings
from tests.conftest import Stack

ROOT = Path(__file__).resolve().parents[2]


def _configured(infra: InfraSettings) -> InfraSettings:
    """The test's settings with a per-topic partition count, as production gives check-ins 48."""
    return infra.model_copy(update={"kafka_partitions": 2, "kafka_topic_partitions": {CHECKINS_TOPIC: 6}})


async def _partitions(kafka: KafkaSettings) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        names = [n for n in await admin.list_topics() if n.startswith(kafka.namespace)]
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
    finally:
        await admin.close()


async def test_create_makes_every_topic_and_twin_as_configured_and_check_agrees(infra: InfraSettings) -> None:
    kafka = _configured(infra).kafka
    assert await topics.check(kafka) == [
        f"{topic(n, kafka.namespace)}: missing" for n in topics.every_topic()
    ]

    made = await topics.create(kafka)

    expected = {topic(n, kafka.namespace): 2 for n in topics.every_topic()}
    expected[topic(CHECKINS_TOPIC, kafka.namespace)] = 6
    assert sorted(made) == sorted(expected)
    assert await _partitions(kafka) == expected
    assert len(expected) == 8  # four topics and their .dlq twins
    assert await topics.check(kafka) == []
    assert await topics.create(kafka) == []  # a second run leaves them as they are


async def test_check_names_a_topic_with_fewer_partitions_than_configured(infra: InfraSettings) -> None:
    kafka = _configured(infra).kafka
    small = topic(CHECKINS_TOPIC, kafka.namespace)
    await _make(kafka, small, 4)  # as a service of old would have made it
    await topics.create(kafka)

    assert await topics.check(kafka) == [f"{small}: 4 partitions, 6 configured"]
    # A configured minimum of in-sync replicas the broker does not report is named too.
    stricter = kafka.model_copy(update={"min_insync_replicas": 2})
    problems = await topics.check(stricter, [REGISTRY_TOPIC])
    assert problems == [f"{topic(REGISTRY_TOPIC, kafka.namespace)}: min.insync.replicas 1, 2 configured"]


def _cli(infra: InfraSettings, stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENUECODE_")}
    env |= {
        "VENUECODE_POSTGRES_URL": stack.postgres_url,
        "VENUECODE_REDIS_URL": stack.redis_url,
        "VENUECODE_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "VENUECODE_KAFKA_NAMESPACE": infra.kafka_namespace,
        "VENUECODE_KAFKA_PARTITIONS": "2",
        "VENUECODE_KAFKA_TOPIC_PARTITIONS": f'{{"{CHECKINS_TOPIC}": 6}}',
        "VENUECODE_STATE_DIR": str(infra.state_dir),
    }
    command = [sys.executable, "-m", "services.cli", "topics", *args]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def test_cli_check_fails_naming_the_small_topic_and_create_makes_the_rest(
    infra: InfraSettings, stack: Stack
) -> None:
    kafka = _configured(infra).kafka
    small = topic(STATUS_TOPIC, kafka.namespace)
    await _make(kafka, small, 1)

    created = _cli(infra, stack, "create")
    assert created.returncode == 1, created.stdout + created.stderr
    assert f"venuecode topics: {small}: 1 partitions, 2 configured" in created.stderr
    assert created.stdout.count("created ") == 7  # all but the one that existed

    checked = _cli(infra, stack, "check")
    assert checked.returncode == 1
    assert checked.stderr.strip().splitlines() == [f"venuecode topics: {small}: 1 partitions, 2 configured"]


def _production(infra: InfraSettings) -> InfraSettings:
    return _configured(infra).model_copy(
        update={
            "env": Environment.PRODUCTION,
            "jwt_private_key": SecretStr(private_to_pem(Ed25519PrivateKey.generate())),
            "token_private_key": SecretStr(private_to_pem(Ed25519PrivateKey.generate())),
            "pii_key": SecretStr(secrets.token_hex(32)),
            "kafka_session_timeout_ms": 2_000,
            "kafka_heartbeat_interval_ms": 500,
        }
    )


async def test_a_production_service_creates_no_topic_and_readyz_names_what_is_not_as_configured(
    infra: InfraSettings,
) -> None:
    from services.status.app import create_app
    from services.status.config import Settings

    production = _production(infra)
    kafka = production.kafka
    small = topic(STATUS_TOPIC, kafka.namespace)
    await _make(kafka, small, 1)
    app = create_app(Settings(infra=production))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answer = await client.get("/api/status/readyz")
            assert answer.status_code == 503
            detail = answer.json()["detail"]
            assert f"{small}: 1 partitions, 2 configured" in detail
            # Topics it only produces to were not made by the service: readyz names them.
            # (tansu makes a topic that a consumer asks about; real Kafka runs with that off.)
            for parked in (dlq(STATUS_COMMANDS_TOPIC), dlq(REGISTRY_TOPIC)):
                assert f"{topic(parked, kafka.namespace)}: missing" in detail
                assert topic(parked, kafka.namespace) not in await _partitions(kafka)
            assert CHECKINS_TOPIC not in detail  # only the service's own topics

            await topics.create(kafka)
            answer = await client.get("/api/status/readyz")
            assert answer.status_code == 503
            # Only the partition counts are left; tansu made the consumed ones with one partition.
            detail = answer.json()["detail"]
            # Without a language the answer is in Simplified Chinese; its technical part stays.
            assert detail.startswith(f"尚未就绪：topics: {small}: 1 partitions, 2 configured")
            assert "missing" not in detail


async def test_a_production_service_is_ready_when_the_topic_job_ran_first(infra: InfraSettings) -> None:
    from services.status.app import create_app
    from services.status.config import Settings

    production = _production(infra)
    await topics.create(production.kafka)
    app = create_app(Settings(infra=production))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            ready = await client.get("/api/status/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {
                "redis": True,
                "kafka": True,
                "consumers": True,
                "topics": True,
                "postgres": True,
            }


async def _make(kafka: KafkaSettings, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()

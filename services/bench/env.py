"""What every benchmark starts: Postgres and Redis (given or embedded), a private tansu, fresh
databases and key prefixes, server subprocesses, and the JSON and PNG it leaves behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

from services.embedded import EmbeddedStack, free_port
from shared.db import with_database

# The tracing schema's migrations, which the benchmarks apply to their own databases (named by
# path: a benchmark never imports a service's app module).
TRACING_MIGRATIONS = Path(__file__).parents[1] / "tracing" / "migrations"

# A server gets this long to answer its readiness check: migrations, topic creation and
# the tansu JoinGroup (~5 s here, shared/settings.py) fit with room for a busy machine.
READY_TIMEOUT_S = 90.0
# Keys are deleted this many at a time when a benchmark cleans its Redis prefix.
UNLINK_CHUNK = 1000


@dataclass
class Machine:
    """Where a run happened and how busy the machine was around it."""

    cpus: int
    model: str
    python: str
    load_before: tuple[float, float, float]
    yardstick_ms: float = float("nan")
    busy_fraction: float = float("nan")
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    _stat: tuple[int, int] = (0, 0)

    @classmethod
    def now(cls) -> Machine:
        model = ""
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        found = cls(os.cpu_count() or 1, model, platform.python_version(), os.getloadavg(), _yardstick_ms())
        found._stat = _cpu_jiffies()
        return found

    def finish(self) -> None:
        busy, total = _cpu_jiffies()
        spent = total - self._stat[1]
        self.busy_fraction = (busy - self._stat[0]) / spent if spent else float("nan")
        self.load_after = os.getloadavg()

    def as_json(self) -> dict[str, Any]:
        return {
            "cpus": self.cpus,
            "model": self.model,
            "python": self.python,
            "yardstick_ms": self.yardstick_ms,
            "load_before": self.load_before,
            "load_after": self.load_after,
            "cpu_busy_fraction_during_run": self.busy_fraction,
        }


def _yardstick_ms() -> float:
    """How fast a core of this machine runs Python: the best of three timings of a million
    additions (~68 ms on the machine of 2026-12-07's third session). On two 2-vCPU machines of
    one kind, a depth-1 contact query cost Postgres 1.8-2.3 and 3.9-5.0 ms of CPU, so a figure is
    read beside its machine's yardstick."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for n in range(1_000_000):
            total += n
        best = min(best, time.perf_counter() - started)
    return best * 1000


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine since boot."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return (0, 0)
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle, sum(fields))


@dataclass
class Infra:
    """Postgres and Redis for a benchmark: the machine's when given, embedded otherwise."""

    postgres_admin: str
    redis_url: str
    workdir: Path
    stack: EmbeddedStack | None = None
    keys_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.keys_dir = self.workdir / "state"
        self.keys_dir.mkdir(parents=True, exist_ok=True)

    @contextlib.asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """A fresh, empty database for one run, dropped afterwards."""
        name = f"vc_bench_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(self.postgres_admin)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            yield with_database(self.postgres_admin, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()

    async def drop_prefix(self, prefix: str) -> int:
        """Delete every Redis key under ``prefix`` (ours alone); returns how many."""
        redis = Redis.from_url(self.redis_url)
        dropped = 0
        try:
            batch: list[bytes] = []
            async for key in redis.scan_iter(match=f"{prefix}*", count=UNLINK_CHUNK):
                batch.append(key)
                if len(batch) >= UNLINK_CHUNK:
                    dropped += await redis.unlink(*batch)
                    batch = []
            if batch:
                dropped += await redis.unlink(*batch)
        finally:
            await redis.aclose()
        return dropped


@contextlib.contextmanager
def infra() -> Iterator[Infra]:
    """Postgres and Redis from ``VENUECODE_POSTGRES_URL`` / ``VENUECODE_REDIS_URL``, else embedded."""
    postgres = os.environ.get("VENUECODE_POSTGRES_URL")
    redis = os.environ.get("VENUECODE_REDIS_URL")
    with tempfile.TemporaryDirectory(prefix="vc-bench-") as work:
        stack = None
        if not postgres or not redis:
            stack = EmbeddedStack(
                Path(work) / "embedded", postgres=not postgres, redis=not redis, kafka=False
            )
            stack.start()
        try:
            yield Infra(
                postgres or (stack.postgres_url if stack else ""),
                redis or (stack.redis_url if stack else ""),
                Path(work),
                stack,
            )
        finally:
            if stack is not None:
                stack.stop()


class Tansu:
    """A private tansu broker; restarted between long runs because its memory storage slows as topics fill."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._stack: EmbeddedStack | None = None
        self.bootstrap = ""

    def start(self) -> Tansu:
        self.stop()
        folder = self._workdir / f"tansu-{uuid.uuid4().hex[:6]}"
        self._stack = EmbeddedStack(folder, postgres=False, redis=False, kafka=True).start()
        self.bootstrap = self._stack.kafka_bootstrap
        return self

    def pid(self) -> int | None:
        pids = self._stack.pids() if self._stack else []
        return pids[0] if pids else None

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.stop()
            self._stack = None

    def __enter__(self) -> Tansu:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def service_env(
    infra: Infra, database_url: str, bootstrap: str, namespace: str, prefix: str
) -> dict[str, str]:
    """The environment a service subprocess reads its InfraSettings from."""
    env = dict(os.environ)
    env.update(
        {
            "VENUECODE_POSTGRES_URL": database_url,
            "VENUECODE_REDIS_URL": infra.redis_url,
            "VENUECODE_KAFKA_BOOTSTRAP": bootstrap,
            "VENUECODE_KAFKA_NAMESPACE": namespace,
            "VENUECODE_REDIS_KEY_PREFIX": prefix,
            "VENUECODE_STATE_DIR": str(infra.keys_dir),
            "VENUECODE_LOG_LEVEL": "WARNING",
        }
    )
    return env


class Server:
    """A server subprocess in its own session, so that stopping it stops its workers too."""

    def __init__(self, name: str, command: Sequence[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self._command = [*command, "--port", str(self.port)]
        self._env = env
        self._log_path = log_dir / f"{name}-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.base_url = f"http://127.0.0.1:{self.port}"

    async def start(self, ready_path: str) -> Server:
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603, ASYNC220 - our own interpreter; Popen returns at once, the wait below is async
                self._command, env=self._env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while True:
                if self._process.poll() is not None:
                    tail = self._log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{self.name} exited with {self._process.returncode}:\n{tail}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(ready_path)).status_code == 200:
                        return self
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{self.name} was not ready within {READY_TIMEOUT_S:.0f} s")
                await asyncio.sleep(0.2)

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each worker (the process itself when it has no worker children)."""
        if self._process is None or self._process.poll() is not None:
            return []
        # uvicorn with several workers keeps a supervisor; the workers are its python children
        # (its multiprocessing resource tracker is one too, but says so on its command line).
        workers = [
            pid
            for pid in _descendants(self._process.pid)
            if "python" in _cmdline(pid) and "resource_tracker" not in _cmdline(pid)
        ]
        found = [_rss_mb(pid) for pid in workers or [self._process.pid]]
        return [mb for mb in found if mb > 0]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server and its workers have used so far."""
        if self._process is None or self._process.poll() is not None:
            return 0.0
        return sum(_cpu_s(pid) for pid in [self._process.pid, *_descendants(self._process.pid)])

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(5)


def module_command(module: str, *args: str) -> list[str]:
    """This interpreter running ``module`` with ``args``."""
    return [sys.executable, "-m", module, *args]


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _cpu_s(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        # Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


class CpuMeter:
    """CPU spent while a step ran: by one server, and by the whole machine except this process
    (the load generator), i.e. the server with its Postgres, Redis and broker."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._start = (server.cpu_seconds(), _cpu_jiffies()[0], _own_cpu_s())

    def per_request_ms(self, requests: int) -> dict[str, float]:
        server, busy, own = self._start
        spent_server = self._server.cpu_seconds() - server
        spent_stack = (_cpu_jiffies()[0] - busy) / os.sysconf("SC_CLK_TCK") - (_own_cpu_s() - own)
        if requests <= 0:
            return {"server_cpu_ms": float("nan"), "stack_cpu_ms": float("nan")}
        return {
            "server_cpu_ms": spent_server * 1000 / requests,
            "stack_cpu_ms": spent_stack * 1000 / requests,
        }


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def _rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # the kernel reports kB
    return 0.0


def cli_command(*args: str) -> list[str]:
    return module_command("services.cli", *args)


def service_server(service: str, env: dict[str, str], log_dir: Path) -> Server:
    """``venuecode serve <service>`` as a server subprocess, named for the service."""
    return Server(service, cli_command("serve", service), env, log_dir)


def write_results(out: Path, name: str, payload: dict[str, Any], plot: Callable[[Path], None]) -> Path:
    """``<out>/<name>-<UTC time>.json`` and ``.png``, with ``<name>-latest.*`` copies beside them."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"{name}-{stamp}.json"
    text = json.dumps(payload, indent=2, default=str)
    path.write_text(text)
    (out / f"{name}-latest.json").write_text(text)
    png = path.with_suffix(".png")
    plot(png)
    if png.exists():
        (out / f"{name}-latest.png").write_bytes(png.read_bytes())
    return path

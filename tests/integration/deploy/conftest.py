"""The production gateway for real: nginx from Debian's packages with deploy/gateway's config,
in front of the four services started one by one with ``venuecode serve``.

``gateway`` (module scope) yields a ``Gateway``: its base URL, each service's port and nginx's
access log (one JSON line per request, with the upstream it went to). Every process started
here is stopped at the end, and the database and Redis keys it used are removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from services.dev import SERVICES
from services.embedded import free_port
from shared.db import with_database
from shared.settings import InfraSettings
from tests.conftest import SHORT_SESSIONS, Stack

ROOT = Path(__file__).resolve().parents[3]
GATEWAY_DIR = ROOT / "deploy" / "gateway"
# A service's start includes migrations and, per subscriber, a consumer-group join that tansu
# answers after ~5 s: 90 s bounds one service on a busy 2-core machine.
SERVICE_START_S = 90.0
STOP_WAIT_S = 15.0
# nginx writes a request's access-log line just after the answer; 5 s bounds that on a busy machine.
LOG_WAIT_S = 5.0
# tansu answers JoinGroup after ~5.0 s; the 5 s default request timeout would never see it.
KAFKA_REQUEST_TIMEOUT_MS = "15000"


def _apt_install(*packages: str) -> str | None:
    """Install Debian packages; returns why it could not, or None when it did."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available on this machine"
    if os.geteuid() != 0:
        return "installing Debian packages needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = subprocess.run(["apt-get", "update"], capture_output=True, text=True, env=env, check=False)
    if update.returncode != 0:
        return f"apt-get update failed: {update.stderr[-500:]}"
    install = subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", *packages],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if install.returncode != 0:
        return f"apt-get install {' '.join(packages)} failed: {install.stderr[-500:]}"
    return None


def _nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )


@pytest.fixture(scope="session")
def nginx() -> str:
    """The nginx binary (and envsubst), installed from Debian's packages when missing."""
    wanted = [
        package
        for package, present in (("nginx", _nginx_binary()), ("gettext-base", shutil.which("envsubst")))
        if present is None
    ]
    if wanted:
        why = _apt_install(*wanted)
        if why is not None:
            pytest.skip(f"nginx cannot be installed here: {why}")
    binary = _nginx_binary()
    assert binary is not None, "nginx was installed but is not on PATH"
    return binary


def render_gateway_config(out_dir: Path, listen: str, upstreams: dict[str, str]) -> Path:
    """Render deploy/gateway/nginx.conf.template with the same script the images run."""
    conf = out_dir / "nginx.conf"
    env = {
        **os.environ,
        "GATEWAY_LISTEN": listen,
        "GATEWAY_RUNTIME_DIR": str(out_dir),
        **{f"{name.upper()}_UPSTREAM": address for name, address in upstreams.items()},
    }
    subprocess.run(
        ["sh", str(GATEWAY_DIR / "entrypoint.sh"), "render", str(conf)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return conf


def nginx_check(binary: str, conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, "-e", "stderr", "-t", "-p", str(conf.parent), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )


def _open_runtime_dir() -> Path:
    """A directory nginx's workers (nobody, when the master runs as root) can use."""
    path = Path(tempfile.mkdtemp(prefix="vc-gateway-"))
    path.chmod(0o755)
    return path


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    path = _open_runtime_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def spawn(name: str, command: list[str], log: Path, env: dict[str, str] | None = None) -> Process:
    """Start a process in its own session (so its whole group can be stopped), output to ``log``."""
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Process(name, popen, log)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@dataclass
class Gateway:
    base_url: str
    ports: dict[str, int]
    access_log: Path
    processes: list[Process] = field(default_factory=list)
    # The settings the services behind the gateway run with, for in-process commands (grant-role).
    infra: InfraSettings | None = None

    def service_of_port(self, port: int) -> str | None:
        return next((name for name, p in self.ports.items() if p == port), None)

    def _find(self, request_id: str) -> dict[str, Any] | None:
        for line in self.access_log.read_text(errors="replace").splitlines():
            if request_id in line:
                try:
                    entry: dict[str, Any] = json.loads(line)
                except ValueError:
                    continue
                if entry.get("request_id") == request_id:
                    return entry
        return None

    async def log_entry(self, request_id: str) -> dict[str, Any]:
        """nginx's access-log line of the request sent with this X-Request-Id.

        nginx writes it after the answer has gone out, so it is awaited (bounded).
        """
        deadline = time.monotonic() + LOG_WAIT_S
        while (entry := self._find(request_id)) is None:
            assert time.monotonic() < deadline, f"no access-log line for {request_id}"
            await asyncio.sleep(0.02)
        return entry

    async def upstream_service(self, request_id: str) -> str | None:
        """Which service answered that request (None when the gateway answered it itself)."""
        entry = await self.log_entry(request_id)
        upstream = str(entry.get("upstream") or "")
        if ":" not in upstream:
            return None
        return self.service_of_port(int(upstream.rsplit(":", 1)[1]))


def stop(process: Process) -> None:
    """Stop a process started here and its process group; wait for it, kill if it lingers."""
    stop_all([process])


def stop_all(processes: Sequence[Process]) -> None:
    """``stop`` for several at once: each is asked to stop before any is waited for, so their
    graceful shutdowns (a second or so each) overlap."""
    asked = [process for process in processes if _terminate(process)]
    for process in asked:
        _reap(process)


def _terminate(process: Process) -> bool:
    if process.popen.poll() is not None:
        _kill_group(process)
        return False
    try:
        os.killpg(process.popen.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def _reap(process: Process) -> None:
    popen = process.popen
    if popen.poll() is None:
        try:
            popen.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(timeout=STOP_WAIT_S)
    _kill_group(process)


def _kill_group(process: Process) -> None:
    # The group is gone only when no member is left (uvicorn or nginx workers).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.popen.pid, signal.SIGKILL)


def _venuecode_command(service: str, port: int) -> list[str]:
    script = Path(sys.executable).parent / "venuecode"
    if script.exists():
        return [str(script), "serve", service, "--port", str(port)]
    return [sys.executable, "-m", "services.cli", "serve", service, "--port", str(port)]


async def wait_ready(process: Process, url: str) -> None:
    deadline = time.monotonic() + SERVICE_START_S
    async with httpx.AsyncClient(timeout=5.0) as client:
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                pytest.fail(f"{process.name} exited with {process.popen.returncode}:\n{process.output()}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    pytest.fail(f"{process.name} was not ready at {url} within {SERVICE_START_S} s:\n{process.output()}")


def service_environment(stack: Stack, state_dir: Path, database: str, name: str) -> dict[str, str]:
    """The environment of `venuecode serve` processes on the test's servers: their own database,
    and topics and Redis keys under ``name``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VENUECODE_")}
    env.update(
        VENUECODE_ENV="test",
        VENUECODE_POSTGRES_URL=with_database(stack.postgres_url, database),
        VENUECODE_REDIS_URL=stack.redis_url,
        VENUECODE_KAFKA_BOOTSTRAP=stack.kafka_bootstrap,
        VENUECODE_KAFKA_NAMESPACE=f"{name}.",
        VENUECODE_KAFKA_REQUEST_TIMEOUT_MS=KAFKA_REQUEST_TIMEOUT_MS,
        VENUECODE_REDIS_KEY_PREFIX=f"{name}:",
        VENUECODE_STATE_DIR=str(state_dir),
        VENUECODE_LOG_LEVEL="WARNING",
    )
    return env


@pytest_asyncio.fixture(scope="module")
async def gateway(
    stack: Stack, state_dir: Path, nginx: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    unique = uuid.uuid4().hex[:12]
    database = f"vc_test_gw_{unique}"
    redis_prefix = f"tgw{unique}:"
    logs = tmp_path_factory.mktemp("gateway-logs")
    runtime = _open_runtime_dir()
    admin = await asyncpg.connect(stack.postgres_url)
    await admin.execute(f'CREATE DATABASE "{database}"')
    env = service_environment(stack, state_dir, database, f"tgw{unique}")
    # Short sessions, as the in-process platforms use (tests/conftest.py): each consumer group
    # joins tansu in ~1 s instead of the 6 s default's 3 s. Nothing here kills a member.
    env.update({f"VENUECODE_{name.upper()}": str(value) for name, value in SHORT_SESSIONS.items()})
    ports = {service: free_port() for service in SERVICES}
    gateway_port = free_port()
    started: list[Process] = []
    try:
        # One by one, as an operator would: each is ready before the next starts.
        for service in SERVICES:
            process = spawn(
                service, _venuecode_command(service, ports[service]), logs / f"{service}.log", env
            )
            started.append(process)
            await wait_ready(process, f"http://127.0.0.1:{ports[service]}/api/{service}/readyz")

        conf = render_gateway_config(
            runtime,
            f"127.0.0.1:{gateway_port}",
            {service: f"127.0.0.1:{port}" for service, port in ports.items()},
        )
        checked = nginx_check(nginx, conf)
        assert checked.returncode == 0, checked.stderr
        # nginx writes the access log to stdout and its errors to stderr: both land in one file,
        # where only the access lines parse as JSON objects with a request_id.
        access_log = logs / "nginx.log"
        command = [nginx, "-e", "stderr", "-p", str(runtime), "-c", str(conf), "-g", "daemon off;"]
        proxy = spawn("nginx", command, access_log)
        started.append(proxy)
        await wait_ready(proxy, f"http://127.0.0.1:{gateway_port}/__gateway/healthz")
        infra = InfraSettings(
            env="test",
            postgres_url=env["VENUECODE_POSTGRES_URL"],
            redis_url=stack.redis_url,
            kafka_bootstrap=stack.kafka_bootstrap,
            kafka_namespace=env["VENUECODE_KAFKA_NAMESPACE"],
            redis_key_prefix=redis_prefix,
            state_dir=state_dir,
        )
        yield Gateway(f"http://127.0.0.1:{gateway_port}", ports, access_log, started, infra)
    finally:
        stop_all(list(reversed(started)))
        shutil.rmtree(runtime, ignore_errors=True)
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
        redis = Redis.from_url(stack.redis_url)
        try:
            keys = [key async for key in redis.scan_iter(match=f"{redis_prefix}*", count=500)]
            if keys:
                await redis.delete(*keys)
        finally:
            await redis.aclose()

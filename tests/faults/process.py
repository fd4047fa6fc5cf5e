"""The tracing service in a process of its own, so a test can kill it (SIGKILL) like a crashed pod."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from services.embedded import free_port
from shared.settings import InfraSettings

ROOT = Path(__file__).resolve().parents[2]
# Importing the app and joining the consumer group takes a few seconds here; 60 s bounds a slow machine.
READY_WITHIN_S = 60.0


def infra_environment(infra: InfraSettings) -> dict[str, str]:
    """The ``VENUECODE_*`` variables that give a process exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENUECODE_")}
    env |= {
        "VENUECODE_ENV": infra.env.value,
        "VENUECODE_POSTGRES_URL": infra.postgres_url or "",
        "VENUECODE_REDIS_URL": infra.redis_url or "",
        "VENUECODE_KAFKA_BOOTSTRAP": infra.kafka_bootstrap or "",
        "VENUECODE_KAFKA_NAMESPACE": infra.kafka_namespace,
        "VENUECODE_REDIS_KEY_PREFIX": infra.redis_key_prefix,
        "VENUECODE_STATE_DIR": str(infra.state_dir),
        "VENUECODE_PUBLIC_BASE_URL": infra.public_base_url,
        "VENUECODE_LOG_LEVEL": "WARNING",
    }
    return env


class TracingProcess:
    """``uvicorn services.tracing.app:create_app`` on a free port, with the test's settings."""

    def __init__(self, infra: InfraSettings, log_path: Path, **knobs: str) -> None:
        self.infra = infra
        self.log_path = log_path
        self.knobs = knobs
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        env = infra_environment(self.infra)
        env |= {f"VENUECODE_TRACING_{k.upper()}": v for k, v in self.knobs.items()}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [
                sys.executable,
                *("-m", "uvicorn", "--factory", "services.tracing.app:create_app"),
                *("--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def ready(self) -> None:
        """Wait until the process answers readyz 200 (its lifespan ran: pool, topics, subscribers)."""
        deadline = time.monotonic() + READY_WITHIN_S
        url = f"http://127.0.0.1:{self.port}/api/tracing/readyz"
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise AssertionError(f"tracing exited: {self.log_path.read_text()[-2000:]}")
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"tracing not ready within {READY_WITHIN_S:.0f} s")

    def log_lines(self) -> list[str]:
        """What the process has written to its log so far."""
        return self.log_path.read_text(errors="replace").splitlines()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no offset commit, an open transaction is rolled back by Postgres."""
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait(10)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

"""The dev runner: the four apps behind one dispatcher, and embedded servers that leave nothing behind."""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.dev import SERVICES, Dispatcher, service_of
from services.devstack import infrastructure, running_stack
from services.embedded import EmbeddedStack, kafka_answers, redis_answers
from shared.settings import InfraSettings


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/", "registry"),
        ("/registry/venues", "registry"),
        ("/api/registry/v1/me", "registry"),
        ("/static/venuecode.css", "registry"),
        ("/api/checkin/v1/checkins", "checkin"),
        ("/checkin/scan", "checkin"),
        ("/c/ABCDEF", "checkin"),
        ("/api/status/readyz", "status"),
        ("/status", "status"),
        ("/api/tracing/v1/audit", "tracing"),
        ("/tracing/queries", "tracing"),
        ("/checkins-are-not-checkin", "registry"),
        ("/statusbar", "registry"),
        ("/c", "registry"),
    ],
)
def test_paths_route_to_their_service(path: str, service: str) -> None:
    assert service_of(path) == service


@asynccontextmanager
async def asgi_lifespan(app: Any) -> AsyncIterator[None]:
    """Drive the ASGI lifespan protocol the way uvicorn does."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(outbox.get(), 120)
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        stopped = await asyncio.wait_for(outbox.get(), 60)
        await task
        assert stopped["type"] == "lifespan.shutdown.complete", stopped


def _four_apps(infra: InfraSettings) -> Dispatcher:
    apps = {}
    for name in SERVICES:
        settings = importlib.import_module(f"services.{name}.config").Settings(infra=infra)
        apps[name] = importlib.import_module(f"services.{name}.app").create_app(settings)
    return Dispatcher(apps)


async def test_the_four_apps_answer_ready_on_one_origin(infra: InfraSettings) -> None:
    dispatcher = _four_apps(infra)
    async with asgi_lifespan(dispatcher):
        transport = httpx.ASGITransport(app=dispatcher)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for name in SERVICES:
                ready = await client.get(f"/api/{name}/readyz")
                assert ready.status_code == 200, (name, ready.text)
                openapi = (await client.get(f"/api/{name}/openapi.json")).json()
                assert openapi["info"]["title"] == f"venuecode {name}"
            assert (await client.get("/static/venuecode.css")).status_code == 200


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is gone for our purpose: it holds no port and no data.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


@pytest.fixture
def outside_pytest_tmp() -> Iterator[Path]:
    """A state directory outside pytest's tree.

    As root, Postgres runs as pgserver's own user, which must traverse the path; a
    concurrent pytest session re-closes /tmp/pytest-of-root to 0700 when it starts.
    """
    path = Path(tempfile.mkdtemp(prefix="vc-embedded-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def test_embedded_stack_starts_answers_keeps_data_and_stops_everything(
    outside_pytest_tmp: Path,
) -> None:
    state = outside_pytest_tmp / "state"
    with EmbeddedStack(state) as stack:
        pids = stack.pids()
        assert len(pids) == 3
        assert redis_answers(int(stack.redis_url.rsplit(":", 1)[1].split("/")[0]))
        assert kafka_answers(int(stack.kafka_bootstrap.rsplit(":", 1)[1]))
        conn = await asyncpg.connect(stack.postgres_url)
        await conn.execute("CREATE TABLE kept (n integer); INSERT INTO kept VALUES (42)")
        await conn.close()
    assert all(_gone(pid) for pid in pids), pids
    # A restart on the same state directory finds the data again.
    with EmbeddedStack(state, redis=False, kafka=False) as again:
        conn = await asyncpg.connect(again.postgres_url)
        assert await conn.fetchval("SELECT n FROM kept") == 42
        await conn.close()
        pids = again.pids()
    assert all(_gone(pid) for pid in pids), pids


def test_given_urls_start_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urls = {
        "VENUECODE_POSTGRES_URL": "postgresql://postgres@db.example/x",
        "VENUECODE_REDIS_URL": "redis://cache.example:6379/0",
        "VENUECODE_KAFKA_BOOTSTRAP": "kafka.example:9092",
    }
    for key, value in urls.items():
        monkeypatch.setenv(key, value)
    with infrastructure(tmp_path, owner=True) as resolved:
        assert resolved == {
            "postgres": urls["VENUECODE_POSTGRES_URL"],
            "redis": urls["VENUECODE_REDIS_URL"],
            "kafka": urls["VENUECODE_KAFKA_BOOTSTRAP"],
        }
    assert not list(tmp_path.iterdir())


def test_the_cli_finds_the_servers_of_a_running_dev(
    outside_pytest_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = outside_pytest_tmp
    for key in ("VENUECODE_POSTGRES_URL", "VENUECODE_REDIS_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("VENUECODE_KAFKA_BOOTSTRAP", "kafka.example:9092")
    with infrastructure(tmp_path, owner=True) as dev:
        assert running_stack(tmp_path) is not None
        with infrastructure(tmp_path, owner=False) as cli:
            assert cli == dev
        assert dev["kafka"] == "kafka.example:9092"
    assert running_stack(tmp_path) is None

"""The platform on a real HTTP port and Debian's Chromium, shared by the browser tests.

The four apps run behind the one-origin dispatcher of ``services.dev`` on a free
loopback port inside the test process, on a database, topic namespace and Redis
key prefix of their own; ``public_base_url`` is that origin, so the poster's QR
opens there. One platform and one browser serve the whole package (starting the
four consumers groups on tansu takes seconds); each test gets a fresh browser
context, so no cookie or storage leaks between tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, ViewportSize, async_playwright, expect

from services.registry.commands import grant_role
from shared.db import with_database
from shared.settings import InfraSettings
from tests.browser.kit import Account
from tests.browser.venue import Venue, open_venue
from tests.conftest import SHORT_SESSIONS, Stack

CHROMIUM = Path("/usr/bin/chromium")
# No downloads here: Debian's Chromium, headless, quiet, and with no network of its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# A phone: the pages are phone-first and the check-in page is opened from a phone.
PHONE = ViewportSize(width=390, height=844)
# The four lifespans start one after another and each app's consumer groups join tansu
# together in ~1 s (short sessions): a few seconds idle, far more while other suites run.
STARTUP_S = 120.0
# Playwright waits 5 s by default; a page's answer waits on Postgres, Redis and Kafka, and the
# machines that run this are often busy with other suites.
WAIT_MS = 15_000


@dataclass(frozen=True)
class Platform:
    origin: str
    infra: InfraSettings


class _Server(uvicorn.Server):
    """uvicorn inside the test's event loop, leaving Ctrl-C to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _apps(infra: InfraSettings) -> dict[str, FastAPI]:
    from services.checkin.app import create_app as checkin_app
    from services.checkin.config import Settings as CheckinSettings
    from services.registry.app import create_app as registry_app
    from services.registry.config import Settings as RegistrySettings
    from services.status.app import create_app as status_app
    from services.status.config import Settings as StatusSettings
    from services.tracing.app import create_app as tracing_app
    from services.tracing.config import Settings as TracingSettings

    return {
        "registry": registry_app(RegistrySettings(infra=infra)),
        "checkin": checkin_app(CheckinSettings(infra=infra)),
        "status": status_app(StatusSettings(infra=infra)),
        "tracing": tracing_app(TracingSettings(infra=infra)),
    }


@pytest.fixture(scope="package")
async def platform(stack: Stack, state_dir: Path) -> AsyncIterator[Platform]:
    from services.dev import Dispatcher

    unique = uuid.uuid4().hex[:12]
    database = f"vc_browser_{unique}"
    admin = await asyncpg.connect(stack.postgres_url)
    await admin.execute(f'CREATE DATABASE "{database}"')
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    origin = f"http://127.0.0.1:{listener.getsockname()[1]}"
    infra = InfraSettings(
        env="test",
        postgres_url=with_database(stack.postgres_url, database),
        redis_url=stack.redis_url,
        kafka_bootstrap=stack.kafka_bootstrap,
        kafka_namespace=f"b{unique}.",
        redis_key_prefix=f"b{unique}:",
        state_dir=state_dir,
        public_base_url=origin,
        **SHORT_SESSIONS,
    )
    config = uvicorn.Config(
        Dispatcher(_apps(infra)), lifespan="on", log_config=None, timeout_graceful_shutdown=5
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(STARTUP_S):
            while not server.started:
                if serving.done():
                    raise RuntimeError(f"the platform did not start: {serving.exception()!r}")
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=origin) as client:
            assert (await client.get("/")).status_code == 200
        yield Platform(origin, infra)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, 30)
        listener.close()
        await _drop_redis_keys(stack.redis_url, f"b{unique}:")
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


async def _drop_redis_keys(url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.fixture(scope="package")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)")
    return CHROMIUM


@pytest.fixture(scope="package")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh phone-sized browser profile in English; tests switch language through the page."""
    made = await browser.new_context(viewport=PHONE, locale="en-US", reduced_motion="reduce")
    made.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture(scope="package")
async def venue(platform: Platform) -> Venue:
    """One venue with a bound inspector for the tests that only need somewhere to check in."""
    return await open_venue(platform.origin, "翠華餐廳")


@pytest.fixture(scope="package")
async def epidemiologist(platform: Platform) -> Account:
    account = await Account.register(platform.origin, "流調員", 33)
    await grant_role(platform.infra, account.id_number, "epidemiologist")
    await account.sign_in()
    return account


@pytest.fixture(scope="package")
async def staff(platform: Platform) -> Account:
    """One person who sees every page whole: administrator and inspector of a venue, health
    authority and epidemiologist."""
    person = await Account.register(platform.origin, "區美華", 45)
    made = await person.call(
        "POST",
        "/api/registry/v1/venues",
        json={"region_code": "440106", "name": "區記茶樓", "category": "restaurant"},
    )
    assert made.status_code == 201, made.text
    bound = await person.call(
        "POST",
        "/api/registry/v1/inspector-bindings",
        json={"declaration_code": made.json()["declaration_code"]},
    )
    assert bound.status_code == 201, bound.text
    for role in ("health_authority", "epidemiologist"):
        await grant_role(platform.infra, person.id_number, role)
    await person.sign_in()
    return person


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS

"""The poster page in a real Chromium: the colour fills the screen, and a scan made offline is kept
with its Idempotency-Key and recorded exactly once when the network is back."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import BrowserContext, async_playwright

from services.checkin.app import create_app
from services.checkin.config import Settings
from shared.auth import CSRF_COOKIE, SESSION_COOKIE, AccessTokens
from shared.colours import CachedColour, mark_warm, write_colours
from shared.keys import load_keys
from shared.settings import InfraSettings
from tests.integration.checkin.kit import build_world, recorded, runtime, venue_token
from tests.waiting import eventually

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium here: apt-get install -y chromium"),
]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app on a free loopback port, inside this test's event loop."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    origin = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = _Server(uvicorn.Config(app, lifespan="on", log_config=None, timeout_graceful_shutdown=5))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(60):
            while not server.started:
                assert not serving.done(), f"the app did not start: {serving.exception()!r}"
                await asyncio.sleep(0.05)
        yield origin
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, 30)
        listener.close()


@contextlib.asynccontextmanager
async def phone(origin: str, session: str) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
            context.set_default_timeout(15_000)
            await context.add_cookies(
                [
                    {"name": SESSION_COOKIE, "value": session, "url": origin, "httpOnly": True},
                    {"name": CSRF_COOKIE, "value": "csrf-test-value", "url": origin},
                ]
            )
            yield context
        finally:
            await browser.close()


async def test_scan_fills_the_screen_and_an_offline_scan_is_sent_once_when_back_online(
    infra: InfraSettings,
) -> None:
    app = create_app(Settings(infra=infra))
    async with served(app) as origin:
        world = await build_world(app)
        rt = runtime(app)
        await write_colours(
            rt.redis, infra.redis.key_prefix, {world.child: CachedColour("red", "confirmed_case", 1)}
        )
        await mark_warm(rt.redis, infra.redis.key_prefix)
        session = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 3600).issue(world.citizen, [])
        async with phone(origin, session) as context:
            page = await context.new_page()
            await page.goto(f"{origin}/c/{venue_token(app, world.venue_id)}?lang=en")
            await page.check(f"input[value='{world.child}']")
            await context.set_offline(True)
            await page.click("[data-confirm]")
            await page.wait_for_selector("[data-queued]:not([hidden])")
            queued = await page.evaluate("JSON.parse(localStorage.getItem('vc_pending_scans'))")
            assert len(queued) == 1
            assert queued[0]["body"]["person_ids"] == [str(world.citizen), str(world.child)]
            assert await recorded(infra) == []

            await context.set_offline(False)
            await page.evaluate("window.dispatchEvent(new Event('online'))")
            await page.wait_for_selector("[data-result]:not([hidden])")
            # The worst colour of the group fills the screen and is named.
            assert await page.get_attribute("body", "class") == "colour-red"
            assert await page.inner_text("[data-code-type]") == "Red code"
            assert "Confirmed case" in await page.inner_text("[data-result-people]")
            first = await page.inner_text("[data-clock]")

            async def ticked() -> bool:
                return await page.inner_text("[data-clock]") != first

            await eventually(ticked, timeout_s=5)
            assert await page.evaluate("localStorage.getItem('vc_pending_scans')") == "[]"

            # A reload (the phone coming back later) resends nothing: the scan is recorded once.
            await page.reload()
            events = await recorded(infra)
            assert sorted(str(e.data.person_id) for e in events) == sorted(
                [str(world.citizen), str(world.child)]
            )

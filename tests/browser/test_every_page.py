"""Every page of the four services opens without a script error, a CSP refusal or a missing asset."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import BrowserContext, ConsoleMessage, Error, Response

from tests.browser.conftest import Platform
from tests.browser.venue import Venue
from tests.waiting import eventually

pytestmark = pytest.mark.browser

PAGES = (
    "/",
    "/registry/register",
    "/registry/login",
    "/registry/family",
    "/registry/venue",
    "/registry/inspector",
    "/checkin/inspect",
    "/status/health-code",
    "/status/assisted-lookup",
    "/status/authority",
    "/tracing/console",
    "/tracing/outbreak",
)


async def test_every_page_opens_cleanly(
    platform: Platform, venue: Venue, context: BrowserContext, screenshots: Path
) -> None:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Answers are judged by on_response below; an API's 4xx is an ordinary answer.
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console: {message.text}")

    def on_page_error(error: Error) -> None:
        problems.append(f"script: {error}")

    def on_response(response: Response) -> None:
        path = urlsplit(response.url).path
        if response.request.resource_type == "document":
            return  # the pages' own statuses are asserted one by one below
        if response.status >= 500 or (response.status >= 400 and not path.startswith("/api/")):
            problems.append(f"{response.status} {response.request.method} {path}")

    # The inspector of the shared venue: signed in, bound, not an administrator nor staff.
    await venue.inspector.into(context)

    async def venue_known() -> bool:
        # checkin learns the venue from venue.registered (Kafka); the poster page 404s until then.
        answer = await venue.inspector.call("GET", urlsplit(venue.url).path)
        return answer.status_code == 200

    await eventually(venue_known, timeout_s=60)
    page = await context.new_page()
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("response", on_response)
    for path in (*PAGES, urlsplit(venue.url).path):
        opened = await page.goto(f"{platform.origin}{path}", wait_until="networkidle")
        assert opened is not None
        # /status/authority is 403 for anyone but the health authority, and says so.
        expected = 403 if path == "/status/authority" else 200
        assert opened.status == expected, (path, opened.status)
        name = "checkin-poster" if path.startswith("/c/") else path.strip("/").replace("/", "-") or "home"
        await page.screenshot(path=screenshots / f"page-{name}.png", animations="disabled")
    assert not problems, "\n".join(problems)

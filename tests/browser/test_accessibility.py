"""WCAG 2.1 A and AA in a real Chromium: axe-core on every page, in the three languages, in normal
and large type, and on each colour state (green, yellow, red, unknown) of the health-code page
and the check-in result; the colour states' text contrast from the computed styles.

One browser; a profile per language (``bypass_csp`` so that axe can be injected) with one tab,
the three run side by side since most of an audit's time is waiting for the network to go idle.
The large-type mode is the cookie the header's switch sets. ``pytest -s`` prints the pages and
states audited and the contrast ratios.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, expect

from shared.i18n import LANGUAGES, Language, reason_text
from tests.browser.axe import Contrast, Violation, audit, contrasts
from tests.browser.conftest import PHONE, WAIT_MS, Platform
from tests.browser.kit import Account, eventually, shoot
from tests.browser.test_every_page import PAGES
from tests.browser.venue import Venue

pytestmark = pytest.mark.browser

SIZES = (("normal", "0"), ("large", "1"))
COLOURS = ("green", "yellow", "red", "unknown")
# What the health authority sets for the non-green states (shared/i18n.py's reasons).
REASONS = {"yellow": "close_contact", "red": "confirmed_case"}
HEALTH_CODE_API = "/api/status/v1/health-code"
SCANS_API = "/api/checkin/v1/scans"


@asynccontextmanager
async def tab(browser: Browser, origin: str, language: Language, person: Account) -> AsyncIterator[Page]:
    """A phone-sized profile in ``language``, signed in as ``person``, that lets axe-core in past
    the pages' script-src CSP."""
    context = await browser.new_context(
        viewport=PHONE, locale="en-US", reduced_motion="reduce", bypass_csp=True
    )
    context.set_default_timeout(WAIT_MS)
    await person.into(context)
    await context.add_cookies([{"name": "vc_lang", "value": language, "url": origin}])
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def large_type(page: Page, origin: str, large: str) -> None:
    """What the header's large-type switch stores."""
    await page.context.add_cookies([{"name": "vc_large", "value": large, "url": origin}])


async def coloured(platform: Platform, authority: Account, colour: str) -> Account:
    """A person whose health code is ``colour`` (green: as registered)."""
    person = await Account.register(
        platform.origin, {"green": "黃美玲", "yellow": "林志強", "red": "張三豐"}[colour]
    )
    await person.health_code()
    if colour in REASONS:
        marked = await authority.call(
            "PUT",
            f"/api/status/v1/persons/{person.person_id}/status",
            json={"colour": colour, "reason": REASONS[colour]},
        )
        assert marked.status_code == 200, marked.text
    return person


def unknown_colour(language: Language) -> Callable[[Route], Awaitable[None]]:
    """Rewrite a real answer's colours to ``unknown``: what readers see while status refills the
    colour cache (shared/colours.py). Emptying the shared cache instead would turn every other
    browser test's colour unknown too."""

    async def handle(route: Route) -> None:
        answer = await route.fetch()
        body = await answer.json()
        for entry in body.get("checkins", [body]):
            entry.update(colour="unknown", reason="unknown", reason_text=reason_text("unknown", language))
        await route.fulfill(response=answer, json=body)

    return handle


def is_api(path: str) -> Callable[[str], bool]:
    return lambda url: urlsplit(url).path == path


async def show_health_code(page: Page, origin: str, venue_url: str, colour: str) -> None:
    await page.goto(f"{origin}/status/health-code")
    await expect(page.locator("body")).to_have_class(f"colour-{colour}")


async def show_scan_result(page: Page, origin: str, venue_url: str, colour: str) -> None:
    async def form_shown() -> bool:
        # checkin learns the venue and the person from registry events (Kafka).
        await page.goto(venue_url)
        return await page.locator("input[name=person_id]").count() > 0

    await eventually(form_shown)
    await page.click("[data-confirm]")
    await expect(page.locator("[data-result]")).to_be_visible()
    await expect(page.locator("body")).to_have_class(f"colour-{colour}")


COLOUR_PAGES = (("health-code", show_health_code), ("check-in result", show_scan_result))


class Findings:
    """What the audits found, and where they looked."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.audited: list[str] = []
        self.violations: list[Violation] = []
        # (state, colour on background, least ratio allowed) -> the lowest ratio seen, a sample text
        self.contrast: dict[tuple[str, str, float], Contrast] = {}

    async def audit(self, page: Page, where: str) -> None:
        self.violations += await audit(page, where)
        self.audited.append(where)

    async def measure(self, page: Page, state: str) -> None:
        for item in await contrasts(page):
            key = (state, f"{item.colour} on {item.background}", item.needed)
            if key not in self.contrast or item.ratio < self.contrast[key].ratio:
                self.contrast[key] = item

    def report(self) -> None:
        print(
            f"\naxe-core WCAG 2.1 A/AA: {len(self.audited)} audits in {time.monotonic() - self.started:.1f} s"
        )
        for where in sorted(self.audited):
            print(f"  audited {where}")
        assert not self.violations, f"{len(self.violations)} violations:\n" + "\n".join(
            map(str, self.violations)
        )


async def test_every_page_in_every_language_and_size_has_no_wcag_violation(
    platform: Platform, venue: Venue, staff: Account, browser: Browser
) -> None:
    paths = (*PAGES, urlsplit(venue.url).path)
    found = Findings()

    async def in_language(language: Language) -> None:
        async with tab(browser, platform.origin, language, staff) as page:
            for size, large in SIZES:
                await large_type(page, platform.origin, large)
                for path in paths:
                    await page.goto(f"{platform.origin}{path}", wait_until="networkidle")
                    await expect(page.locator("html")).to_have_attribute("lang", language)
                    await found.audit(page, f"{path} [{language}, {size}]")

    await asyncio.gather(*(in_language(language) for language in LANGUAGES))
    found.report()


async def test_every_colour_state_has_no_wcag_violation_and_readable_text(
    platform: Platform, venue: Venue, staff: Account, browser: Browser, screenshots: Path
) -> None:
    people = {colour: await coloured(platform, staff, colour) for colour in ("green", "yellow", "red")}
    people["unknown"] = people["green"]
    found = Findings()

    async def in_language(language: Language) -> None:
        for colour in COLOURS:
            async with tab(browser, platform.origin, language, people[colour]) as page:
                if colour == "unknown":
                    await page.route(is_api(HEALTH_CODE_API), unknown_colour(language))
                    await page.route(is_api(SCANS_API), unknown_colour(language))
                for size, large in SIZES:
                    await large_type(page, platform.origin, large)
                    for name, show in COLOUR_PAGES:
                        await show(page, platform.origin, venue.url, colour)
                        await found.audit(page, f"{name} {colour} [{language}, {size}]")
                        await found.measure(page, f"{name} {colour}")
                        if (language, size) == ("zh-Hans", "normal"):
                            await shoot(page, screenshots, f"a11y-{name.replace(' ', '-')}-{colour}")

    await asyncio.gather(*(in_language(language) for language in LANGUAGES))
    print("\ncontrast of the colour states, lowest per pair of colours (WCAG 2.1 AA: 4.5:1, large text 3:1):")
    for (state, _, _), item in sorted(found.contrast.items()):
        print(f"  {state:28} {item}")
    found.report()
    too_low = [
        f"{state}: {item}" for (state, _, _), item in found.contrast.items() if item.ratio < item.needed
    ]
    assert not too_low, "text below WCAG 2.1 AA contrast:\n" + "\n".join(too_low)

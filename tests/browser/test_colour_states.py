"""Each colour state (green, yellow, red, unknown) on each screen that shows one: the person's
health code, the check-in result, the inspector's reverse scan and the assisted lookup. In the
three languages and in normal and large type: zero axe-core WCAG 2.1 A/AA violations, every
text's contrast from the computed styles at 4.5:1 (large text 3:1), every control's edge at 3:1,
the colour's name written and said through the live region.

``pytest -s`` prints the states audited and the contrast ratios.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, expect

from services.status.pages import TEXTS
from shared.i18n import LANGUAGES, Language, reason_text
from tests.browser.axe import SIZES, Findings, large_type, tab
from tests.browser.conftest import Platform
from tests.browser.kit import Account, shoot
from tests.browser.venue import Venue, check_in_on
from tests.waiting import eventually

pytestmark = pytest.mark.browser

COLOURS = ("green", "yellow", "red", "unknown")
# What the health authority sets for the non-green states (shared/i18n.py's reasons).
REASONS = {"yellow": "close_contact", "red": "confirmed_case"}
# The answers that carry a colour, rewritten to "unknown" for that state.
COLOUR_APIS = (
    "/api/status/v1/health-code",
    "/api/checkin/v1/scans",
    "/api/status/v1/health-codes/verify",
    "/api/status/v1/assisted-lookups",
)
# Old enough for the assisted lookup (60+), so that one person shows a colour on every screen.
AGE = 70


async def coloured(platform: Platform, authority: Account, colour: str) -> Account:
    """An elder whose health code is ``colour`` (green: as registered)."""
    names = {"green": "黃美玲", "yellow": "林志強", "red": "張三豐"}
    person = await Account.register(platform.origin, names[colour], AGE)
    await person.health_code()
    if colour in REASONS:
        path = f"/api/status/v1/persons/{person.person_id}/status"
        marked = await authority.call("PUT", path, json={"colour": colour, "reason": REASONS[colour]})
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


async def show_health_code(page: Page, origin: str, venue: Venue, person: Account) -> None:
    await page.goto(f"{origin}/status/health-code")


async def show_scan_result(page: Page, origin: str, venue: Venue, person: Account) -> None:
    await check_in_on(page, venue)


async def show_reverse_scan(page: Page, origin: str, venue: Venue, person: Account) -> None:
    await page.goto(f"{origin}/checkin/inspect")
    # A keyboard-wedge scanner types the code shown on the person's phone, then Enter.
    await page.fill("[data-code]", (await person.health_code())["token"])
    await page.press("[data-code]", "Enter")
    await expect(page.locator("[data-person]")).to_be_visible()


async def show_lookup(page: Page, origin: str, venue: Venue, person: Account) -> None:
    await page.goto(f"{origin}/status/assisted-lookup")
    await page.fill("#name", person.name)
    await page.fill("#id_number", person.id_number)
    await page.click("form[data-lookup] button[type=submit]")
    await expect(page.locator("[data-result]")).to_be_visible()


Show = Callable[[Page, str, Venue, Account], Awaitable[None]]
# Each screen, and whose tab shows it: the person's phone, the inspector's or the helper's.
SCREENS: tuple[tuple[str, Show, str], ...] = (
    ("health-code", show_health_code, "phone"),
    ("check-in result", show_scan_result, "phone"),
    ("reverse scan", show_reverse_scan, "inspector"),
    ("assisted lookup", show_lookup, "helper"),
)


def is_api(path: str) -> Callable[[str], bool]:
    return lambda url: urlsplit(url).path == path


async def inspector_can_verify(inspector: Account, person: Account) -> None:
    """Status learns the inspector's binding from inspector.bound (Kafka): 403 until then."""

    async def verified() -> bool:
        token = (await person.health_code())["token"]
        answer = await inspector.call("POST", "/api/status/v1/health-codes/verify", json={"token": token})
        return answer.status_code == 200

    await eventually(verified, timeout_s=60)


async def test_every_colour_state_has_no_wcag_violation_and_readable_text(
    platform: Platform, venue: Venue, staff: Account, browser: Browser, screenshots: Path
) -> None:
    people = {colour: await coloured(platform, staff, colour) for colour in ("green", "yellow", "red")}
    people["unknown"] = people["green"]
    await inspector_can_verify(staff, people["green"])
    found = Findings()

    async def in_state(page: Page, name: str, show: Show, colour: str, language: Language) -> None:
        if colour == "unknown":
            for api in COLOUR_APIS:
                await page.route(is_api(api), unknown_colour(language))
        try:
            for size, large in SIZES:
                await large_type(page, platform.origin, large)
                await show(page, platform.origin, venue, people[colour])
                # The colour is written, and said through the live region.
                written = TEXTS[f"code_{colour}"][language]
                await expect(page.locator("[data-code-type]")).to_have_text(written)
                await expect(page.locator("[data-announce]")).to_contain_text(written)
                await found.audit(page, f"{name} {colour} [{language}, {size}]")
                await found.measure(page, f"{name} {colour}")
                if (language, size) == ("zh-Hans", "normal"):
                    await shoot(page, screenshots, f"a11y-{name.replace(' ', '-')}-{colour}")
        finally:
            await page.unroute_all()

    async def in_language(language: Language) -> None:
        # The lookup's caps are per caller (10 a minute): a helper of its own per language.
        helper = await Account.register(platform.origin, "社區義工", 30)
        async with (
            tab(browser, platform.origin, language, staff) as inspector,
            tab(browser, platform.origin, language, helper) as counter,
        ):
            for colour in COLOURS:
                async with tab(browser, platform.origin, language, people[colour]) as phone:
                    whose = {"phone": phone, "inspector": inspector, "helper": counter}
                    for name, show, who in SCREENS:
                        await in_state(whose[who], name, show, colour, language)

    await asyncio.gather(*(in_language(language) for language in LANGUAGES))
    found.report()
    assert not found.too_low(), "text below WCAG 2.1 AA contrast:\n" + "\n".join(found.too_low())
    assert not found.weak_edges, "controls under 3:1 (WCAG 1.4.11):\n" + "\n".join(
        sorted(set(found.weak_edges))
    )

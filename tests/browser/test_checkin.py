"""The check-in page opened from the poster's QR: the result fills the phone's screen with its colour."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from playwright.async_api import BrowserContext, Page, expect

from services.registry.commands import grant_role
from tests.browser.conftest import Platform
from tests.browser.kit import GREEN, PASSWORD, RED, Account, shoot
from tests.browser.venue import Venue
from tests.waiting import eventually

pytestmark = pytest.mark.browser
# Text, the header and the "check out" button cover the rest; a colour that "fills
# the screen" is most of it (0.93 measured on a 390x844 phone viewport).
FILLS = 0.8


async def open_checkin_page(page: Page, venue: Venue) -> None:
    """Open the poster's URL until checkin knows the venue (registry events arrive by Kafka)."""

    async def shown() -> bool:
        await page.goto(venue.url)
        return await page.locator("[data-scan]").count() == 1

    await eventually(shown, timeout_s=60)


async def green(account: Account) -> dict[str, Any]:
    async def is_green() -> dict[str, Any] | None:
        code = await account.health_code()
        return code if code["colour"] == "green" else None

    found: dict[str, Any] = await eventually(is_green, timeout_s=60)
    return found


async def test_a_green_result_fills_the_screen_green(
    platform: Platform, venue: Venue, context: BrowserContext, screenshots: Path
) -> None:
    assert venue.url.startswith(f"{platform.origin}/c/")
    citizen = await Account.register(platform.origin, "黃美玲")
    await green(citizen)
    page = await context.new_page()

    # Signed out, the poster's URL asks the phone to sign in first, then comes back.
    await page.goto(venue.url)
    back_to = quote(urlsplit(venue.url).path, safe="")
    await expect(page).to_have_url(f"{platform.origin}/registry/login?next={back_to}")
    await page.fill("#id_number", citizen.id_number)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(venue.url)
    await open_checkin_page(page, venue)

    await expect(page.locator("[data-venue-name]")).to_have_text(venue.name)
    await expect(page.locator("input[name=person_id]")).to_be_checked()
    await shoot(page, screenshots, "checkin-1-confirm")
    await page.click("[data-confirm]")

    result = page.locator("[data-result]")
    await expect(result).to_be_visible()
    await expect(page.locator("body")).to_have_class("colour-green")
    await expect(result.locator("[data-code-type]")).to_have_text("Green code")
    await expect(result.locator("[data-result-people] li")).to_have_count(1)
    shot = await shoot(page, screenshots, "checkin-2-green")
    assert shot.share(GREEN) > FILLS, shot
    assert shot.share(RED) < 0.01, shot


async def test_a_red_result_fills_the_screen_red_and_names_the_code(
    platform: Platform, venue: Venue, context: BrowserContext, screenshots: Path
) -> None:
    authority = await Account.register(platform.origin, "衛生局", 50)
    await grant_role(platform.infra, authority.id_number, "health_authority")
    await authority.sign_in()
    case = await Account.register(platform.origin, "張三豐", 28)
    await green(case)
    marked = await authority.call(
        "PUT",
        f"/api/status/v1/persons/{case.person_id}/status",
        json={"colour": "red", "reason": "confirmed_case"},
    )
    assert marked.status_code == 200, marked.text

    await case.into(context)
    page = await context.new_page()
    await open_checkin_page(page, venue)
    await page.click("[data-confirm]")

    result = page.locator("[data-result]")
    await expect(result).to_be_visible()
    await expect(page.locator("body")).to_have_class("colour-red")
    await expect(result.locator("[data-code-type]")).to_have_text("Red code")
    await expect(result.locator("[data-result-people] li")).to_contain_text("Confirmed case")
    shot = await shoot(page, screenshots, "checkin-3-red")
    assert shot.share(RED) > FILLS, shot
    assert shot.share(GREEN) < 0.01, shot

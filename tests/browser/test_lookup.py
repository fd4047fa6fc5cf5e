"""Assisted lookup for elders and children: the answer is shown for ten seconds, then cleared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from shared.pii import mask_name
from tests.browser.conftest import Platform
from tests.browser.kit import GREEN, Account, shoot

pytestmark = pytest.mark.browser
DISPLAY_S = 10  # API.md: display_seconds is 10


async def test_the_lookup_result_disappears_after_ten_seconds(
    platform: Platform, context: BrowserContext, screenshots: Path
) -> None:
    helper = await Account.register(platform.origin, "社區義工", 30)
    elder = await Account.register(platform.origin, "何伯伯", 72)
    await elder.health_code()  # status knows the elder, so the lookup can find them

    await helper.into(context)
    page = await context.new_page()
    # The page's clock is Playwright's: time moves only when the test moves it.
    await page.clock.install()
    await page.goto(f"{platform.origin}/status/assisted-lookup")
    await page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=5))
    await page.fill("#name", elder.name)
    await page.fill("#id_number", elder.id_number)
    await page.click("form[data-lookup] button[type=submit]")

    result = page.locator("[data-result]")
    await expect(result).to_be_visible()
    await expect(result.locator("[data-masked-name]")).to_have_text(mask_name(elder.name))
    await expect(result.locator("[data-countdown]")).to_have_text(str(DISPLAY_S))
    await expect(result).to_have_class("hc-band hc-green")
    # The form is emptied at once: the identity number is not left on a shared screen.
    await expect(page.locator("#id_number")).to_have_value("")
    shot = await shoot(page, screenshots, "lookup-1-shown")
    assert shot.share(GREEN) > 0.05, shot

    await page.clock.run_for((DISPLAY_S - 1) * 1000)
    await expect(result).to_be_visible()
    await expect(result.locator("[data-countdown]")).to_have_text("1")

    await page.clock.run_for(1000)
    await expect(result).to_be_hidden()
    await expect(result.locator("[data-masked-name]")).to_have_text("")
    shot = await shoot(page, screenshots, "lookup-2-cleared")
    assert shot.share(GREEN) < 0.001, shot

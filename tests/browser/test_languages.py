"""The header's switches: three languages across every service's pages, and the large-type mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.browser.conftest import Platform
from tests.browser.kit import Account, shoot

pytestmark = pytest.mark.browser

# shared/static/venuecode.css: the root font size, and html.large for elderly users.
NORMAL_PX, LARGE_PX = 17.0, 34.0


async def root_font_px(page: Page) -> float:
    size: str = await page.evaluate("getComputedStyle(document.documentElement).fontSize")
    return float(size.removesuffix("px"))


async def switch_to(page: Page, language: str) -> None:
    # The button sets the vc_lang cookie and reloads the page.
    async with page.expect_navigation():
        await page.click(f"[data-lang='{language}']")
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await expect(page.locator(f"[data-lang='{language}']")).to_have_class("lang on")


async def test_the_three_languages_switch_on_every_service(
    platform: Platform, context: BrowserContext, screenshots: Path
) -> None:
    person = await Account.register(platform.origin, "黃美玲")
    await person.health_code()
    await person.into(context)
    page = await context.new_page()

    await page.goto(f"{platform.origin}/")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("h1")).to_have_text("Venue code registry")

    await switch_to(page, "zh-Hant")
    await expect(page.locator("h1")).to_have_text("場所碼登記")
    await expect(page.locator(".brand")).to_have_text("場所碼")
    await shoot(page, screenshots, "languages-1-registry-zh-Hant")

    # The choice is a cookie on the one origin: the other services answer in it too.
    await page.goto(f"{platform.origin}/status/health-code")
    await expect(page.locator("h1")).to_have_text("健康碼")
    await expect(page.locator("[data-code-type]")).to_have_text("綠碼")
    await switch_to(page, "zh-Hans")
    await expect(page.locator("h1")).to_have_text("健康码")
    await expect(page.locator("[data-code-type]")).to_have_text("绿码")
    await expect(page.locator("[data-large-toggle]")).to_have_text("大字模式")
    await shoot(page, screenshots, "languages-2-status-zh-Hans")

    await page.goto(f"{platform.origin}/checkin/inspect")
    await expect(page.locator("h1")).to_have_text("反向扫码")
    await expect(page.locator("[data-no-venues]")).to_have_text("您尚未绑定任何场所为检测员。")
    await switch_to(page, "en")
    await expect(page.locator("h1")).to_have_text("Reverse scan")
    await expect(page.locator("[data-no-venues]")).to_have_text(
        "You are not bound to any venue as an inspector."
    )
    await shoot(page, screenshots, "languages-3-checkin-en")


async def test_large_type_grows_the_text_and_stays_on(
    platform: Platform, context: BrowserContext, screenshots: Path
) -> None:
    person = await Account.register(platform.origin, "何伯伯", 72)
    await person.health_code()
    await person.into(context)
    page = await context.new_page()
    await page.goto(f"{platform.origin}/status/health-code")
    toggle = page.locator("[data-large-toggle]")
    heading = page.locator("h1")
    await expect(page.locator("[data-code-type]")).to_have_text("Green code")
    assert await root_font_px(page) == NORMAL_PX
    normal = await heading.bounding_box()
    await shoot(page, screenshots, "large-1-off")

    await toggle.click()
    await expect(page.locator("html")).to_contain_class("large")
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    assert await root_font_px(page) == LARGE_PX
    large = await heading.bounding_box()
    assert normal is not None
    assert large is not None
    assert large["height"] > normal["height"] * 1.3, (normal, large)
    await shoot(page, screenshots, "large-2-on")

    # A cookie keeps it on, on reload and on the other services' pages.
    for path in ("/status/health-code", "/", "/checkin/inspect", "/status/assisted-lookup"):
        await page.goto(f"{platform.origin}{path}")
        await expect(page.locator("html")).to_contain_class("large")
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        assert await root_font_px(page) == LARGE_PX, path

    await toggle.click()
    await expect(toggle).to_have_attribute("aria-pressed", "false")
    assert await root_font_px(page) == NORMAL_PX
    await page.reload()
    await expect(toggle).to_have_attribute("aria-pressed", "false")
    assert await root_font_px(page) == NORMAL_PX

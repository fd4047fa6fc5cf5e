"""Each role's pages in a browser that speaks none of our languages (French): Simplified Chinese
throughout, Chinese problem details on the page, and on every page the language switcher and
the large-type (关怀) switch, whose one class on the root doubles the text."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import PHONE, WAIT_MS, Platform
from tests.browser.kit import Account, shoot
from tests.browser.test_every_page import PAGES
from tests.browser.test_languages import LARGE_PX, NORMAL_PX, root_font_px
from tests.browser.venue import Venue
from tests.people import born_years_ago, mainland_id

pytestmark = pytest.mark.browser

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Page names, headings and labels are Chinese; Latin letters only in names such as PDF or CSV.
ENGLISH_WORD = re.compile(
    r"\b(?!PDF\b|CSV\b|PNG\b|GraphML\b|Gephi\b|Cytoscape\b|EN\b|person_id\b)[A-Za-z]{3,}\b"
)


async def _french_page(browser: Browser, person: Account | None) -> Page:
    # Chromium sends Accept-Language: fr-FR,fr; no vc_lang cookie: nothing chosen yet.
    context = await browser.new_context(viewport=PHONE, locale="fr-FR", reduced_motion="reduce")
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    if person is not None:  # None: signed in as nobody
        await person.into(context)
    return await context.new_page()


async def test_every_role_page_falls_back_to_simplified_chinese_and_has_both_switches(
    platform: Platform, venue: Venue, staff: Account, browser: Browser, screenshots: Path
) -> None:
    page = await _french_page(browser, staff)
    problems: list[str] = []
    try:
        for path in (*PAGES, urlsplit(venue.url).path):
            await page.goto(f"{platform.origin}{path}", wait_until="networkidle")
            await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
            await expect(page.locator(".brand")).to_have_text("场所码")
            await expect(page.locator("[data-lang]")).to_have_count(3)
            await expect(page.locator("[data-lang='zh-Hans']")).to_have_attribute("aria-pressed", "true")
            heading = (await page.locator("h1").first.text_content() or "").strip()
            if not CHINESE.search(heading):
                problems.append(f"{path}: heading {heading!r} is not Chinese")
            texts = " ".join(
                await page.locator("main label, main h1, main h2, main legend").all_text_contents()
            )
            problems += [f"{path}: English {word!r}" for word in ENGLISH_WORD.findall(texts)]
            # The large-type switch: on every page, one click doubles the root's text.
            toggle = page.locator("[data-large-toggle]")
            await expect(toggle).to_have_text("大字模式")
            assert await root_font_px(page) == NORMAL_PX, path
            await toggle.click()
            await expect(page.locator("html")).to_contain_class("large")
            assert await root_font_px(page) == LARGE_PX, path
            name = "checkin-poster" if path.startswith("/c/") else path.strip("/").replace("/", "-") or "home"
            await shoot(page, screenshots, f"fallback-zh-Hans-{name}")
            await toggle.click()
            await expect(page.locator("html")).not_to_contain_class("large")
    finally:
        await page.context.close()
    assert not problems, "\n".join(problems)


async def test_a_problem_detail_shows_in_the_page_language(
    platform: Platform, staff: Account, browser: Browser, screenshots: Path
) -> None:
    page = await _french_page(browser, None)
    try:
        await page.goto(f"{platform.origin}/registry/login")
        await page.fill("#id_number", staff.id_number)
        await page.fill("#password", "not the password")
        await page.click("button[type=submit]")
        await expect(page.locator("[data-error]")).to_have_text("证件号码或密码错误。")
        await shoot(page, screenshots, "fallback-zh-Hans-wrong-password")

        # The register form's 422 names the field in Chinese, beside the field and in the detail.
        await page.goto(f"{platform.origin}/registry/register")
        await page.fill("#name", "馬麗")
        await page.fill("#id_number", mainland_id(born_years_ago(30)))
        await page.fill("#phone", "12")
        await page.fill("#password", "correct horse battery")
        await page.click("button[type=submit]")
        error = page.locator("[data-error]")
        await expect(error).to_have_text("手机号码：手机号码为 6 至 15 位数字，前面可加 +")
        await expect(page.locator("#phone-error")).to_have_text("手机号码为 6 至 15 位数字，前面可加 +")
        await shoot(page, screenshots, "fallback-zh-Hans-register-422")

        # Picking English on the page is kept: the next answer is in English.
        async with page.expect_navigation():
            await page.click("[data-lang='en']")
        await page.fill("#name", "馬麗")
        await page.fill("#phone", "12")
        await page.fill("#id_number", mainland_id(born_years_ago(30)))
        await page.fill("#password", "correct horse battery")
        await page.click("button[type=submit]")
        await expect(error).to_have_text("phone: a phone number is 6 to 15 digits, optionally after +")
    finally:
        await page.context.close()

"""Large type for real: on a 360 px wide phone every page's text is at least twice its normal size,
nothing scrolls sideways, no text leaves the screen and no word is split over two lines (WCAG
1.4.4 and 1.4.10), in each language, and on the check-in result too.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from shared.i18n import LANGUAGES
from tests.browser.axe import tab
from tests.browser.conftest import Platform
from tests.browser.kit import Account, shoot
from tests.browser.test_every_page import PAGES
from tests.browser.venue import Venue, check_in_on

pytestmark = pytest.mark.browser

# The narrowest phones still common (and WCAG 1.4.10's 320 CSS px is near it).
NARROW = ViewportSize(width=360, height=740)
TEXT_SIZES_JS = Path(__file__).with_name("text_sizes.js")
# WCAG 1.4.4: text resized up to 200 percent.
AT_LEAST = 2.0


async def measure(page: Page, origin: str, path: str, large: str) -> dict[str, Any]:
    """The text sizes and overflow of a page with large type off ("0") or on ("1")."""
    await page.context.add_cookies([{"name": "vc_large", "value": large, "url": origin}])
    await page.goto(f"{origin}{path}", wait_until="networkidle")
    html = expect(page.locator("html"))
    await (html.to_contain_class("large") if large == "1" else html.not_to_contain_class("large"))
    found: dict[str, Any] = await page.evaluate(TEXT_SIZES_JS.read_text(encoding="utf-8"))
    return found


def judged(where: str, normal: dict[str, Any], large: dict[str, Any]) -> list[str]:
    """What breaks the rule on one page: sideways scrolling, text off screen, text under 2x."""
    problems = [f"{where}: {text} is off the {large['clientWidth']} px screen" for text in large["outside"]]
    problems += [f"{where}: {word} is split over two lines" for word in large["broken"]]
    if large["scrollWidth"] > large["clientWidth"]:
        problems.append(f"{where}: scrolls sideways ({large['scrollWidth']} > {large['clientWidth']} px)")
    both = normal["sizes"].keys() & large["sizes"].keys()
    problems += [
        f"{where}: {place} {normal['sizes'][place]} -> {large['sizes'][place]} px"
        for place in sorted(both)
        if large["sizes"][place] < AT_LEAST * normal["sizes"][place]
    ]
    if len(both) < 3:
        problems.append(f"{where}: only {len(both)} texts compared")
    return problems


async def test_large_type_doubles_the_text_of_every_page_without_sideways_scrolling(
    platform: Platform, venue: Venue, staff: Account, browser: Browser, screenshots: Path
) -> None:
    problems: list[str] = []
    compared = 0

    async def in_language(language: str) -> None:
        nonlocal compared
        async with tab(browser, platform.origin, language, staff, NARROW) as page:
            for path in (*PAGES, urlsplit(venue.url).path):
                normal = await measure(page, platform.origin, path, "0")
                large = await measure(page, platform.origin, path, "1")
                problems.extend(judged(f"{path} [{language}]", normal, large))
                compared += len(normal["sizes"].keys() & large["sizes"].keys())
                if language == "zh-Hant":
                    name = "checkin-poster" if path[:3] == "/c/" else path.strip("/").replace("/", "-")
                    await shoot(page, screenshots, f"large-360-{name or 'home'}")

    # Side by side: most of a page's time is waiting for its network to go idle.
    await asyncio.gather(*(in_language(language) for language in LANGUAGES))
    pages = len(PAGES) + 1
    print(f"\nlarge type at {NARROW['width']} px: {compared} texts on {pages} pages x 3 languages, all >= 2x")
    assert not problems, "\n".join(problems)


async def test_large_type_check_in_result_fits_a_narrow_phone(
    platform: Platform, venue: Venue, browser: Browser, screenshots: Path
) -> None:
    person = await Account.register(platform.origin, "歐陽婆婆", 81)
    await person.health_code()
    async with tab(browser, platform.origin, "en", person, NARROW) as page:
        await page.context.add_cookies([{"name": "vc_large", "value": "1", "url": platform.origin}])
        await check_in_on(page, venue)
        found: dict[str, Any] = await page.evaluate(TEXT_SIZES_JS.read_text(encoding="utf-8"))
        await shoot(page, screenshots, "large-360-checkin-result", full_page=True)
        # The colour's name: 2.6rem (checkin.css) of the doubled 17 px root, less rounding.
        size = "el => parseFloat(getComputedStyle(el).fontSize)"
        shown = await page.locator("[data-code-type]").evaluate(size)
    assert found["scrollWidth"] <= found["clientWidth"], found
    assert not found["outside"], found["outside"]
    assert not found["broken"], found["broken"]
    assert shown >= 2.6 * 17 * AT_LEAST - 0.5, shown

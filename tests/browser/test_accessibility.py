"""WCAG 2.1 A and AA in a real Chromium: axe-core on every page, in the three languages and in
normal and large type (the colour states are in ``test_colour_states.py``).

One browser; a profile per language (axe-core in each document, the CSP on) with one tab,
the three run side by side since most of an audit's time is waiting for the network to go idle.
``pytest -s`` prints the pages audited.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, expect

from shared.i18n import LANGUAGES, Language
from tests.browser.axe import SIZES, Findings, large_type, tab
from tests.browser.conftest import Platform
from tests.browser.kit import Account
from tests.browser.test_every_page import PAGES
from tests.browser.venue import Venue

pytestmark = pytest.mark.browser
# A poster URL whose token does not verify: the check-in's problem page (422).
BAD_POSTER = "/c/NOT-A-VENUE-TOKEN"


async def test_every_page_in_every_language_and_size_has_no_wcag_violation(
    platform: Platform, venue: Venue, staff: Account, browser: Browser
) -> None:
    paths = (*PAGES, urlsplit(venue.url).path, BAD_POSTER)
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

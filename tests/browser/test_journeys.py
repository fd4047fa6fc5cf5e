"""Journeys as people take them, in Simplified Chinese, with screenshots (issue 16).

- citizen: the poster's page -> register -> back on the scan -> confirm -> the colour;
- family: a guardian ticks a child beside themself on the poster's page;
- epidemiologist: a contact query in the console -> notify the contacts -> their code turns yellow.

Screenshots go to ``artifacts/screenshots/`` (git-ignored) on every run, and over the committed
ones in ``docs/screenshots/`` only with ``VENUECODE_SCREENSHOTS=1``, so CI leaves the tree clean.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from services.registry.commands import grant_role
from tests.browser.conftest import PHONE, WAIT_MS, Platform
from tests.browser.kit import GREEN, PASSWORD, Account, eventually, shoot
from tests.browser.test_console import scan
from tests.browser.venue import Venue, open_venue
from tests.people import born_years_ago, mainland_id

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESK = ViewportSize(width=1280, height=1400)
YELLOW_NAME = "黄码"


@pytest.fixture
def shots(screenshots: Path) -> Path:
    """Where this run's journey screenshots go: the committed folder only when asked."""
    return DOCS if os.environ.get("VENUECODE_SCREENSHOTS") == "1" else screenshots


@pytest.fixture
async def zh(browser: Browser, platform: Platform) -> AsyncIterator[BrowserContext]:
    """A phone whose person chose 简 (Simplified Chinese)."""
    made = await browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", reduced_motion="reduce"
    )
    made.set_default_timeout(WAIT_MS)
    await made.add_cookies([{"name": "vc_lang", "value": "zh-Hans", "url": platform.origin}])
    try:
        yield made
    finally:
        await made.close()


async def until_green(person: Account, subject: str | None = None) -> None:
    """Status knows the person (person.registered arrives by Kafka) and their code is green."""

    async def green() -> bool:
        params = {"person_id": subject} if subject else {}
        answer = await person.call("GET", "/api/status/v1/health-code", params=params)
        return answer.status_code == 200 and answer.json()["colour"] == "green"

    await eventually(green)


async def poster_page(page: Page, venue: Venue, people: int) -> None:
    """The poster's page once checkin knows the venue and the people offered (Kafka)."""

    async def shown() -> bool:
        await page.goto(venue.url)
        boxes = page.locator("input[name=person_id]")
        if await boxes.count() != people:
            return False
        names = await page.locator("label.person").all_inner_texts()
        return all(name.split("(")[0].strip() for name in names)  # masked names arrived too

    await eventually(shown)


async def test_a_citizen_registers_from_the_poster_and_lands_back_on_the_scan(
    platform: Platform, venue: Venue, zh: BrowserContext, shots: Path
) -> None:
    page = await zh.new_page()
    await page.goto(venue.url)
    back_to = quote(urlsplit(venue.url).path, safe="")
    await expect(page).to_have_url(f"{platform.origin}/registry/login?next={back_to}")
    await expect(page.locator("[data-scan-first]")).to_be_visible()
    await shoot(page, shots, "journey-citizen-1-sign-in")

    await page.locator("[data-register]").click()
    await expect(page.locator("h1")).to_have_text("实名注册")
    assert urlsplit(page.url).path == "/registry/register"
    citizen = Account(platform.origin, "林晓敏", 29)
    await page.fill("#name", citizen.name)
    await page.fill("#id_number", citizen.id_number)
    await page.fill("#phone", "13912345678")
    await page.fill("#password", PASSWORD)
    await shoot(page, shots, "journey-citizen-2-register")
    await page.click("button[type=submit]")
    # Registered, signed in, back on the poster's page, and the scan made on arrival: the
    # citizen came to check in (the colour may still be unknown, a new person's status is on its way).
    await page.wait_for_url(re.compile(re.escape(venue.url) + "(#checkin)?$"))
    await expect(page.locator("[data-venue-name]")).to_have_text(venue.name)
    await expect(page.locator("[data-result]")).to_be_visible()
    await expect(page.locator("[data-result-people] li")).to_have_count(1)
    assert page.url == venue.url, page.url  # the mark is gone: a reload does not scan again

    await citizen.sign_in()
    await until_green(citizen)
    await poster_page(page, venue, 1)
    await expect(page.locator("input[name=person_id]")).to_be_checked()
    await shoot(page, shots, "journey-citizen-3-confirm")
    await page.click("[data-confirm]")
    await expect(page.locator("[data-result]")).to_be_visible()
    await expect(page.locator("body")).to_have_class("colour-green")
    await expect(page.locator("[data-code-type]")).to_have_text("绿码")
    shot = await shoot(page, shots, "journey-citizen-4-green")
    assert shot.share(GREEN) > 0.8, shot


async def test_a_guardian_checks_in_a_child_on_the_same_scan(
    platform: Platform, venue: Venue, zh: BrowserContext, shots: Path
) -> None:
    guardian = await Account.register(platform.origin, "陳家豪", 38)
    child_id = mainland_id(born_years_ago(8))
    added = await guardian.call(
        "POST",
        "/api/registry/v1/dependents",
        json={"name": "陳小華", "id_kind": "mainland_id", "id_number": child_id, "relation": "child"},
    )
    assert added.status_code == 201, added.text
    assert added.json()["state"] == "active"
    child = added.json()["person_id"]
    await until_green(guardian)
    await until_green(guardian, child)

    await guardian.into(zh)
    page = await zh.new_page()
    await poster_page(page, venue, 2)
    boxes = page.locator("input[name=person_id]")
    await expect(page.locator(f"input[value='{guardian.person_id}']")).to_be_checked()
    await page.locator(f"input[value='{child}']").check()
    await expect(boxes.nth(0)).to_be_checked()
    await expect(boxes.nth(1)).to_be_checked()
    await shoot(page, shots, "journey-family-1-choose")
    await page.click("[data-confirm]")
    result = page.locator("[data-result]")
    await expect(result).to_be_visible()
    people = result.locator("[data-result-people] li")
    await expect(people).to_have_count(2)
    await expect(people.nth(0)).to_contain_text("绿码")
    await expect(people.nth(1)).to_contain_text("绿码")
    await shoot(page, shots, "journey-family-2-result")


async def test_an_epidemiologist_queries_a_case_and_notifies_the_contacts(
    platform: Platform, zh: BrowserContext, shots: Path
) -> None:
    place = await open_venue(platform.origin, "榮記粥麵")
    case = await Account.register(platform.origin, "張伟", 41)
    contact = await Account.register(platform.origin, "何丽", 36)
    officer = await Account.register(platform.origin, "流調員丙", 45)
    await grant_role(platform.infra, officer.id_number, "epidemiologist")
    await until_green(contact)
    await scan(case, place)
    await scan(contact, place)
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}
    await officer.sign_in()

    async def ingested() -> dict[str, Any] | None:
        answer = await officer.call(
            "POST", "/api/tracing/v1/contact-queries", json={"person_id": case.person_id, **window}
        )
        found = [c["person_id"] for c in answer.json().get("contacts", [])]
        return answer.json() if found == [contact.person_id] else None

    await eventually(ingested)

    await officer.into(zh)
    page = await zh.new_page()
    await page.set_viewport_size(DESK)
    await page.goto(f"{platform.origin}/")
    await page.locator("main a[href='/tracing/console']").click()
    await expect(page.locator("h1")).to_have_text("流调控制台")
    form = page.locator("#query-form")
    await form.locator("[name=person_id]").fill(case.person_id)
    local = "new Date(Date.now() - new Date().getTimezoneOffset() * 60000 + {}).toISOString().slice(0, 16)"
    await form.locator("[name=from]").fill(await page.evaluate(local.format(-3_600_000)))
    await form.locator("[name=to]").fill(await page.evaluate(local.format(3_600_000)))
    async with page.expect_response("**/api/tracing/v1/contact-queries") as answered:
        await form.locator("button[type=submit]").click()
    assert (await answered.value).status == 201
    await expect(page.locator("#contact-rows tr")).to_have_count(1)
    await expect(page.locator("#case-rows")).to_contain_text(place.name)
    await shoot(page, shots, "journey-epidemiologist-1-query", full_page=True)

    await page.locator("#notify-form [name=colour]").select_option("yellow")
    await page.locator("#notify-form button[type=submit]").click()
    await expect(page.locator("#confirm-box")).to_be_visible()
    await expect(page.locator("#confirm-count")).to_have_text("1")
    await page.locator("#confirm-box").scroll_into_view_if_needed()
    await shoot(page, shots, "journey-epidemiologist-2-confirm")
    async with page.expect_response("**/notifications") as sent:
        await page.locator("#confirm-send").click()
    assert (await sent.value).status == 202

    # The notice reaches the contact: their own health code turns yellow.
    async def yellow() -> bool:
        answer = await contact.call("GET", "/api/status/v1/health-code")
        return bool(answer.json().get("colour") == "yellow")

    await eventually(yellow)
    await zh.clear_cookies()
    await zh.add_cookies([{"name": "vc_lang", "value": "zh-Hans", "url": platform.origin}])
    await contact.into(zh)
    phone = await zh.new_page()
    await phone.goto(f"{platform.origin}/")
    await phone.locator("main a[href='/status/health-code']").click()
    await expect(phone.locator("main")).to_contain_text(YELLOW_NAME)
    await shoot(phone, shots, "journey-epidemiologist-3-contact-yellow")

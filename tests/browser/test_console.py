"""The epidemiologist console: a depth-2 contact query drawn as tables, a timeline and a contact graph."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, ViewportSize, expect

from tests.browser.conftest import Platform
from tests.browser.kit import Account, shoot
from tests.browser.venue import Venue, open_venue
from tests.waiting import eventually

pytestmark = pytest.mark.browser
# services/tracing/static/console.css: the case's bars and node, depth-1 and depth-2 contacts.
CASE_RED = (0xC6, 0x28, 0x28)
SECOND_PURPLE = (0x6A, 0x1B, 0x9A)
DESK = ViewportSize(width=1280, height=1600)


async def scan(person: Account, venue: Venue) -> None:
    """A self check-in, retried until checkin knows the venue and the person (Kafka)."""
    key = str(uuid.uuid4())

    async def recorded() -> httpx.Response | None:
        venue_token = venue.url.rsplit("/c/", 1)[1]
        answer = await person.call(
            "POST",
            "/api/checkin/v1/scans",
            json={"venue_token": venue_token},
            headers={"Idempotency-Key": key},
        )
        return answer if answer.status_code in {200, 201} else None

    await eventually(recorded, timeout_s=60)


async def test_the_console_draws_the_timeline_and_the_contact_graph(
    platform: Platform, epidemiologist: Account, context: BrowserContext, screenshots: Path
) -> None:
    # The case meets a contact at one venue; the contact then meets a second contact elsewhere.
    first_venue = await open_venue(platform.origin, "茶餐廳甲")
    second_venue = await open_venue(platform.origin, "茶餐廳乙")
    case = await Account.register(platform.origin, "張三豐", 28)
    contact = await Account.register(platform.origin, "黃美玲", 35)
    second = await Account.register(platform.origin, "李四", 45)
    await scan(case, first_venue)
    await scan(contact, first_venue)
    await scan(contact, second_venue)
    await scan(second, second_venue)

    now = datetime.now(UTC)
    window = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}

    async def ingested() -> dict[str, Any] | None:
        # Tracing ingests check-ins from Kafka in batches; ask until all four arrived.
        answer = await epidemiologist.call(
            "POST",
            "/api/tracing/v1/contact-queries",
            json={"person_id": case.person_id, "depth": 2, **window},
        )
        assert answer.status_code == 201, answer.text
        depths = {c["person_id"]: c["depth"] for c in answer.json()["contacts"]}
        return answer.json() if depths == {contact.person_id: 1, second.person_id: 2} else None

    await eventually(ingested, timeout_s=60)

    await epidemiologist.into(context)
    page = await context.new_page()
    await page.set_viewport_size(DESK)
    await page.goto(f"{platform.origin}/tracing/console")
    await expect(page.locator("h1")).to_have_text("Contact tracing console")
    form = page.locator("#query-form")
    await form.locator("[name=person_id]").fill(case.person_id)
    # The console's date fields are read as Shanghai wall time (UTC+8, whatever the browser's
    # zone), as people in Guangdong read clocks: an hour either side of now, there.
    local = "new Date(Date.now() + 8 * 3600000 + {}).toISOString().slice(0, 16)"
    await form.locator("[name=from]").fill(await page.evaluate(local.format(-3_600_000)))
    await form.locator("[name=to]").fill(await page.evaluate(local.format(3_600_000)))
    await form.locator("[name=depth]").select_option("2")
    async with page.expect_response("**/api/tracing/v1/contact-queries") as answered:
        await form.locator("button[type=submit]").click()
    response = await answered.value
    assert response.status == 201, await response.text()
    query_id = (await response.json())["query_id"]

    results = page.locator("#results")
    await expect(results).to_be_visible()
    await expect(page.locator("#contact-count")).to_have_text("2")
    rows = page.locator("#contact-rows tr")
    await expect(rows).to_have_count(2)
    await expect(rows.filter(has_text=contact.person_id)).to_have_count(1)
    await expect(rows.filter(has_text=second.person_id)).to_have_count(1)
    await expect(page.locator("#case-rows tr")).to_have_count(1)
    await expect(page.locator("#case-rows")).to_contain_text(first_venue.name)

    # Timeline: the case's visit and each contact's overlap as bars, one lane per venue.
    timeline = page.locator("#timeline svg")
    await expect(timeline.locator("rect.bar-case")).to_have_count(1)
    await expect(timeline.locator("rect.bar-contact")).to_have_count(1)
    await expect(timeline.locator("rect.bar-second")).to_have_count(1)
    await expect(timeline).to_contain_text(first_venue.name)
    await expect(timeline).to_contain_text(second_venue.name)
    # Graph: the case, a depth-1 node linked to it and a depth-2 node linked to that one.
    graph = page.locator("#graph svg")
    await expect(page.locator("#graph-block")).to_be_visible()
    await expect(graph.locator("circle.node-case")).to_have_count(1)
    await expect(graph.locator("circle.node-1")).to_have_count(1)
    await expect(graph.locator("circle.node-2")).to_have_count(1)
    await expect(graph.locator("line.edge")).to_have_count(2)
    csv = f"/api/tracing/v1/contact-queries/{query_id}.csv"
    await expect(page.locator("#csv-link")).to_have_attribute("href", csv)

    shot = await shoot(page, screenshots, "console-1-query", full_page=True)
    # The drawings are really on screen, in their colours, not only in the DOM: the case's
    # 8-px bar and node came to 0.33 % of the page, the depth-2 4-px bar and node to 0.16 %.
    assert shot.share(CASE_RED, tolerance=6) > 0.0015, shot
    assert shot.share(SECOND_PURPLE, tolerance=6) > 0.0008, shot

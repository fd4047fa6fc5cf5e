"""The outbreak picture: three cases at one venue drawn as a shared venue-window, timelines and a graph."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from playwright.async_api import Browser, BrowserContext, expect

from tests.browser.conftest import Platform
from tests.browser.kit import Account, shoot
from tests.browser.test_console import DESK, scan
from tests.browser.venue import open_venue
from tests.waiting import eventually

pytestmark = pytest.mark.browser


async def test_the_outbreak_page_draws_shared_exposures_and_exports_graphml(
    platform: Platform, epidemiologist: Account, context: BrowserContext, screenshots: Path
) -> None:
    shop = await open_venue(platform.origin, "士多甲")
    elsewhere = await open_venue(platform.origin, "士多乙")
    cases = [await Account.register(platform.origin, name, 30) for name in ("陳大文", "何小芳", "周子健")]
    bystander = await Account.register(platform.origin, "林路人", 40)
    for case in cases:
        await scan(case, shop)
    await scan(cases[0], elsewhere)
    await scan(bystander, elsewhere)
    ids = [c.person_id for c in cases]
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}

    async def ingested() -> dict[str, Any] | None:
        answer = await epidemiologist.call(
            "POST", "/api/tracing/v1/exposure-analyses", json={"person_ids": ids, **window}
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        visits = sum(len(t["visits"]) for t in body["timelines"])
        return body if visits == 4 and body["exposures"] else None

    await eventually(ingested, timeout_s=60)

    await epidemiologist.into(context)
    page = await context.new_page()
    await page.set_viewport_size(DESK)
    await page.goto(f"{platform.origin}/tracing/outbreak")
    await expect(page.locator("h1")).to_have_text("Outbreak picture")
    form = page.locator("#analysis-form")
    await form.locator("[name=person_ids]").fill("\n".join(ids))
    local = "new Date(Date.now() + 8 * 3600000 + {}).toISOString().slice(0, 16)"  # Shanghai wall time
    await form.locator("[name=from]").fill(await page.evaluate(local.format(-3_600_000)))
    await form.locator("[name=to]").fill(await page.evaluate(local.format(3_600_000)))
    async with page.expect_response("**/api/tracing/v1/exposure-analyses") as answered:
        await form.locator("button[type=submit]").click()
    response = await answered.value
    assert response.status == 201, await response.text()
    analysis_id = (await response.json())["analysis_id"]

    await expect(page.locator("#picture")).to_be_visible()
    await expect(page.locator("#exposure-count")).to_have_text("1")
    await expect(page.locator("#exposure-rows tr")).to_have_count(1)
    await expect(page.locator("#exposure-rows")).to_contain_text(shop.name)
    venue_chart = page.locator("#venue-chart svg")
    await expect(venue_chart.locator("rect.window-shade")).to_have_count(1)
    await expect(venue_chart.locator("rect.bar-shared")).to_have_count(3)
    await expect(venue_chart).to_contain_text(shop.name)
    case_chart = page.locator("#case-chart svg")
    await expect(case_chart.locator("rect.bar-shared")).to_have_count(3)
    await expect(case_chart.locator("rect.bar-visit")).to_have_count(1)  # the first case's other stop
    graph = page.locator("#outbreak-graph svg")
    await expect(graph.locator("circle.node-case")).to_have_count(3)
    await expect(graph.locator("circle.node-1")).to_have_count(1)  # the bystander, met by the first case
    await expect(graph.locator("line.edge")).to_have_count(7)  # 3 cases pairwise both ways, and one
    graphml = f"/api/tracing/v1/exposure-analyses/{analysis_id}/graph.graphml"
    await expect(page.locator("#graphml")).to_have_attribute("href", graphml)

    # The download link works with the page's own session, and the file is GraphML.
    text = await page.evaluate("url => fetch(url, {credentials: 'same-origin'}).then(r => r.text())", graphml)
    root = ElementTree.fromstring(text)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    assert len(root.findall("g:graph/g:node", ns)) == 4
    assert len(root.findall("g:graph/g:edge", ns)) == 7
    await shoot(page, screenshots, "outbreak-1-picture", full_page=True)


async def test_a_venue_alert_is_made_approved_by_a_second_person_and_withdrawn_on_the_page(
    platform: Platform, epidemiologist: Account, browser: Browser, screenshots: Path
) -> None:
    from services.registry.commands import grant_role

    teahouse = await open_venue(platform.origin, "茶樓丙")
    visitors = [await Account.register(platform.origin, name, 50) for name in ("鄭一", "王二")]
    for visitor in visitors:
        await scan(visitor, teahouse)
    authority = await Account.register(platform.origin, "衛生官", 45)
    await grant_role(platform.infra, authority.id_number, "health_authority")
    await authority.sign_in()
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}

    async def ingested() -> bool:
        answer = await epidemiologist.call(
            "GET", f"/api/tracing/v1/venues/{teahouse.venue_id}/presence", params=window
        )
        return len(answer.json()["checkins"]) == 2

    await eventually(ingested, timeout_s=60)
    local = "new Date(Date.now() + 8 * 3600000 + {}).toISOString().slice(0, 16)"  # Shanghai wall time

    # The epidemiologist makes the alert and cannot approve it.
    epi_context = await browser.new_context(viewport=DESK, locale="en-US")
    await epidemiologist.into(epi_context)
    page = await epi_context.new_page()
    await page.goto(f"{platform.origin}/tracing/outbreak")
    form = page.locator("#alert-form")
    await form.locator("[name=venue_id]").fill(teahouse.venue_id)
    await form.locator("[name=from]").fill(await page.evaluate(local.format(-3_600_000)))
    await form.locator("[name=to]").fill(await page.evaluate(local.format(3_600_000)))
    async with page.expect_response("**/api/tracing/v1/venue-alerts") as answered:
        await form.locator("button[type=submit]").click()
    alert_id = (await (await answered.value).json())["alert_id"]
    await expect(page.locator("#alert-state")).to_have_text("pending")
    await expect(page.locator("#alert-people tr")).to_have_count(2)
    for visitor in visitors:
        await expect(page.locator("#alert-people")).to_contain_text(visitor.person_id)
    await page.locator("#alert-approve").click()
    await expect(page.locator("#alert-confirm-count")).to_have_text("2")
    await page.locator("#alert-confirm-yes").click()
    await expect(page.locator("#alert-message")).to_contain_text("health_authority")
    await epi_context.close()

    # A second person, of the health authority, opens it and approves.
    context = await browser.new_context(viewport=DESK, locale="en-US")
    await authority.into(context)
    page = await context.new_page()
    await page.goto(f"{platform.origin}/tracing/outbreak")
    await page.locator("#alert-pending").click()  # finds it among the alerts awaiting approval
    await page.locator("#alert-list button", has_text="茶樓丙").click()
    await expect(page.locator("#alert-state")).to_have_text("pending")
    await expect(page.locator("#alert-id")).to_have_text(f"alert_id {alert_id}")
    await page.locator("#alert-approve").click()
    await page.locator("#alert-confirm-yes").click()
    await expect(page.locator("#alert-state")).to_have_text("approved")
    await expect(page.locator("#alert-approve")).to_be_disabled()

    async def coloured(colour: str, reason: str) -> bool:
        codes = [await v.health_code() for v in visitors]
        return all((c["colour"], c["reason"]) == (colour, reason) for c in codes)

    await eventually(lambda: coloured("yellow", "risk_area_visit"), timeout_s=60)
    await shoot(page, screenshots, "outbreak-2-alert-approved", full_page=True)
    await page.locator("#alert-withdraw").click()
    await page.locator("#alert-confirm-yes").click()
    await expect(page.locator("#alert-state")).to_have_text("withdrawn")
    await eventually(lambda: coloured("green", "none"), timeout_s=60)
    await context.close()

"""The outbreak picture: three cases at one venue drawn as a shared venue-window, timelines and a graph."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from playwright.async_api import BrowserContext, expect

from tests.browser.conftest import Platform
from tests.browser.kit import Account, eventually, shoot
from tests.browser.test_console import DESK, scan
from tests.browser.venue import open_venue

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

    await eventually(ingested)

    await epidemiologist.into(context)
    page = await context.new_page()
    await page.set_viewport_size(DESK)
    await page.goto(f"{platform.origin}/tracing/outbreak")
    await expect(page.locator("h1")).to_have_text("Outbreak picture")
    form = page.locator("#analysis-form")
    await form.locator("[name=person_ids]").fill("\n".join(ids))
    local = "new Date(Date.now() - new Date().getTimezoneOffset() * 60000 + {}).toISOString().slice(0, 16)"
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

"""The inspector's reverse scan: a wedge scanner types a health code; the page shows who and what colour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, expect

from shared.pii import mask_id, mask_name
from tests.browser.conftest import Platform
from tests.browser.kit import GREEN, Account, shoot
from tests.browser.venue import Venue
from tests.waiting import eventually

pytestmark = pytest.mark.browser


async def test_a_scanned_health_code_shows_the_person_and_fever_is_recorded(
    platform: Platform,
    venue: Venue,
    epidemiologist: Account,
    context: BrowserContext,
    screenshots: Path,
) -> None:
    elder = await Account.register(platform.origin, "何文田", 72)
    token = (await elder.health_code())["token"]

    async def verifiable() -> bool:
        # Status learns the binding from inspector.bound; until then the page would say 403.
        answer = await venue.inspector.call(
            "POST", "/api/status/v1/health-codes/verify", json={"token": token}
        )
        return answer.status_code == 200

    await eventually(verifiable, timeout_s=60)

    await venue.inspector.into(context)
    page = await context.new_page()

    async def venue_offered() -> bool:
        await page.goto(f"{platform.origin}/checkin/inspect")
        return await page.locator(f"[data-venue] option[value='{venue.venue_id}']").count() == 1

    await eventually(venue_offered, timeout_s=60)
    # A dynamic code lives 60 s (shared.tokens): show a fresh one, as the elder's phone would.
    token = (await elder.health_code())["token"]
    code = page.locator("[data-code]")
    await expect(code).to_be_focused()
    # A keyboard-wedge scanner is a keyboard: it types the code's text, then Enter.
    await page.keyboard.type(token, delay=5)
    await page.keyboard.press("Enter")

    card = page.locator("[data-person]")
    await expect(card).to_be_visible()
    await expect(card.locator("[data-masked-name]")).to_have_text(mask_name(elder.name))
    await expect(card.locator("[data-masked-id]")).to_have_text(mask_id(elder.id_number))
    await expect(card.locator("[data-code-type]")).to_have_text("Green code")
    await expect(page.locator("body")).to_have_class("colour-green")
    await expect(page.locator("[data-confirm]")).to_be_disabled()
    shot = await shoot(page, screenshots, "inspect-1-scanned")
    assert shot.share(GREEN) > 0.5, shot
    assert elder.id_number not in await page.content()

    await page.click("[data-band=fever]")
    await expect(page.locator("[data-band=fever]")).to_have_attribute("aria-pressed", "true")
    async with page.expect_response("**/api/checkin/v1/inspections") as answered:
        await page.click("[data-confirm]")
    response = await answered.value
    assert response.status == 201, await response.text()
    assert response.request.post_data_json == {
        "venue_id": venue.venue_id,
        "health_code_token": token,
        "temperature_band": "fever",
    }
    await expect(page.locator("[data-done]")).to_be_visible()
    await expect(card).to_be_hidden()
    await expect(code).to_have_value("")
    await shoot(page, screenshots, "inspect-2-recorded")

    # The entry reaches tracing as the inspector's scan of the elder at this venue.
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}

    async def recorded() -> list[dict[str, Any]]:
        answer = await epidemiologist.call(
            "GET", f"/api/tracing/v1/venues/{venue.venue_id}/presence", params=window
        )
        assert answer.status_code == 200, answer.text
        return [c for c in answer.json()["checkins"] if c["person_id"] == elder.person_id]

    rows = await eventually(recorded, timeout_s=60)
    assert [row["method"] for row in rows] == ["inspector_scan"]

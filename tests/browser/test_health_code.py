"""The health-code page: the colour band, and a QR on screen that a scanner can read and verify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, expect

from shared.pii import mask_name
from tests.browser.conftest import Platform
from tests.browser.kit import GREEN, Account, shoot
from tests.browser.venue import Venue
from tests.qr import qr_text
from tests.waiting import eventually

pytestmark = pytest.mark.browser


async def test_the_health_code_qr_on_screen_scans_as_the_person(
    platform: Platform, venue: Venue, context: BrowserContext, screenshots: Path
) -> None:
    person = await Account.register(platform.origin, "黃美玲")
    await person.health_code()
    await person.into(context)
    page = await context.new_page()
    await page.goto(f"{platform.origin}/status/health-code")
    await expect(page.locator("[data-code-type]")).to_have_text("Green code")
    await expect(page.locator("[data-masked-name]")).to_have_text(mask_name(person.name))
    await expect(page.locator("body")).to_have_class("colour-green")

    qr = page.locator("img[data-qr]")
    # Locator waits, not wait_for_function: a string predicate is eval'd, which the page's CSP
    # (script-src 'self') rightly refuses once the first check is not already true.
    await expect(page.locator("img[data-qr][src*='health-code.svg']")).to_be_visible()
    await eventually(lambda: qr.evaluate("img => img.complete && img.naturalWidth > 0"), timeout_s=10)
    shot = await shoot(page, screenshots, "health-code-1-green")
    assert shot.share(GREEN) > 0.3, shot
    width = await qr.evaluate("img => img.naturalWidth")
    assert width > 0, "the QR image did not render"

    # A scanner reads the QR from the screen, and the token verifies as this person.
    token = qr_text(await qr.screenshot())

    async def verified() -> dict[str, Any] | None:
        # Status learns the inspector's binding from inspector.bound (Kafka): 403 until then.
        answer = await venue.inspector.call(
            "POST", "/api/status/v1/health-codes/verify", json={"token": token}
        )
        assert answer.status_code in {200, 403}, answer.text
        return answer.json() if answer.status_code == 200 else None

    assert (await eventually(verified, timeout_s=60))["person_id"] == person.person_id

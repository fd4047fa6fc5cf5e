"""A venue with an administrator and a bound inspector, and the check-in URL read from its PNG poster."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.async_api import Page, expect

from tests.browser.kit import Account
from tests.qr import qr_text
from tests.waiting import eventually


@dataclass(frozen=True)
class Venue:
    venue_id: str
    name: str
    url: str  # what the poster's QR encodes
    inspector: Account


async def open_venue(origin: str, name: str) -> Venue:
    admin = await Account.register(origin, "陳大文", 40)
    made = await admin.call(
        "POST",
        "/api/registry/v1/venues",
        json={"region_code": "440106", "name": name, "category": "restaurant"},
    )
    assert made.status_code == 201, made.text
    venue_id, declaration_code = made.json()["venue_id"], made.json()["declaration_code"]
    inspector = await Account.register(origin, "李小龍", 30)
    bound = await inspector.call(
        "POST", "/api/registry/v1/inspector-bindings", json={"declaration_code": declaration_code}
    )
    assert bound.status_code == 201, bound.text
    png = await inspector.call("GET", f"/api/registry/v1/venues/{venue_id}/code", params={"format": "png"})
    assert png.status_code == 200, png.text
    return Venue(venue_id, name, qr_text(png.content), inspector)


async def check_in_on(page: Page, venue: Venue) -> None:
    """Open the poster's page as the tab's person, confirm, and wait for the result screen."""

    async def form_shown() -> bool:
        # checkin learns the venue and the person from registry events (Kafka).
        await page.goto(venue.url)
        return await page.locator("input[name=person_id]").count() > 0

    await eventually(form_shown, timeout_s=60)
    await page.click("[data-confirm]")
    await expect(page.locator("[data-result]")).to_be_visible()

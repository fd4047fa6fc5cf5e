"""A returning phone: the access cookie has expired, the refresh token renews it without a word
(issue 16). The next day at the supermarket door the poster's page opens ready to confirm."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import BrowserContext, expect

from tests.browser.conftest import Platform
from tests.browser.kit import Account, eventually
from tests.browser.test_checkin import open_checkin_page
from tests.browser.venue import Venue

pytestmark = pytest.mark.browser


async def expire_access(context: BrowserContext) -> str:
    """Drop the access cookie as its max-age would; the refresh cookie's value before."""
    cookies = await context.cookies()
    refresh = next(c["value"] for c in cookies if c["name"] == "vc_refresh")
    kept = [c for c in cookies if c["name"] != "vc_session"]
    await context.clear_cookies()
    await context.add_cookies(kept)  # type: ignore[arg-type]
    return refresh


async def test_an_expired_access_cookie_is_renewed_and_the_scan_is_one_tap_away(
    platform: Platform, venue: Venue, context: BrowserContext
) -> None:
    citizen = await Account.register(platform.origin, "鄭麗君", 52)
    await citizen.into(context)
    page = await context.new_page()
    await open_checkin_page(page, venue)  # checkin knows the venue and the person
    old_refresh = await expire_access(context)

    # The poster's page sends the phone to sign in, which renews the session and comes back.
    await page.goto(venue.url)
    await page.wait_for_url(venue.url)
    await expect(page.locator("[data-venue-name]")).to_have_text(venue.name)
    await page.click("[data-confirm]")
    await expect(page.locator("[data-result]")).to_be_visible()
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies["vc_refresh"]["value"] != old_refresh  # rotated
    assert cookies["vc_refresh"]["path"] == "/api/registry/v1/sessions"
    assert cookies["vc_refresh"]["httpOnly"]
    assert "vc_session" in cookies

    # A page that renders signed out renews too, and shows the person's own check-ins. (A new
    # tab: a tab renews at most once in 10 s, so a renewal that cannot take never loops.)
    await expire_access(context)
    page = await context.new_page()

    async def listed() -> bool:
        await page.goto(f"{platform.origin}/")
        await page.locator("main a[href='/tracing/visits']").click()
        await expect(page.locator("h1")).to_have_text("My check-ins")
        return await page.locator("[data-visit]").count() == 1

    await eventually(listed)  # tracing ingests the check-in from Kafka
    visit = page.locator("[data-visit]")
    await expect(visit.locator("h2")).to_have_text(venue.name)
    shown = await visit.locator("time").first.get_attribute("datetime")
    assert shown is not None
    local = datetime.fromisoformat(shown).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    await expect(visit.locator("time").first).to_have_text(local)
    await expect(visit).to_contain_text("Scanned myself")


async def test_signing_out_everywhere_signs_out_the_other_phone(
    platform: Platform, context: BrowserContext
) -> None:
    person = await Account.register(platform.origin, "吳志強", 44)
    await person.into(context)
    other_phone = await context.browser.new_context() if context.browser else None
    assert other_phone is not None
    try:
        await person.into(other_phone)
        page = await context.new_page()
        await page.goto(f"{platform.origin}/")
        page.on("dialog", lambda dialog: dialog.accept())
        await page.locator("[data-logout-everywhere]").click()
        await page.wait_for_url(f"{platform.origin}/")
        await expect(page.locator("main a[href='/registry/login']")).to_be_visible()
        # The other phone's access cookie expires; its refresh token no longer renews it.
        await expire_access(other_phone)
        elsewhere = await other_phone.new_page()
        await elsewhere.goto(f"{platform.origin}/")
        await expect(elsewhere.locator("main a[href='/registry/login']")).to_be_visible()
        await elsewhere.wait_for_timeout(1000)  # a renewal, had it worked, would have reloaded
        await expect(elsewhere.locator("main a[href='/registry/login']")).to_be_visible()
        assert "vc_stay" not in {c["name"] for c in await other_phone.cookies()}
    finally:
        await other_phone.close()

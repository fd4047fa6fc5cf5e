"""Every page of each role is reached from the home page by clicking links only (issue 16).

Each role signs in and starts at ``/``; no other URL is typed. For every page the role may use,
the test clicks its link on the home page, checks the page's heading, and clicks the brand link
back home. Links of roles the person does not hold are absent.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.async_api import BrowserContext, Page, expect

from services.registry.commands import grant_role
from tests.browser.conftest import Platform
from tests.browser.kit import Account
from tests.browser.venue import Venue

pytestmark = pytest.mark.browser

# Every signed-in person: their own code, their check-ins, family, and setting up a venue or
# binding to one as inspector.
CITIZEN = {
    "/status/health-code": "Health code",
    "/tracing/visits": "My check-ins",
    "/registry/family": "Family members",
    "/registry/venue": "My venue",
    "/registry/inspector": "Inspector",
}
INSPECTOR = {
    "/checkin/inspect": "Reverse scan",
    "/status/assisted-lookup": "Assisted lookup for elders and children",
}
EPIDEMIOLOGIST = {
    "/tracing/console": "Contact tracing console",
    "/tracing/outbreak": "Outbreak picture",
}
AUTHORITY = {
    "/tracing/outbreak": "Outbreak picture",
    "/status/authority": "Set a health-code status",
    "/tracing/compliance": "Venue-code compliance",
}
OPERATOR = {"/registry/operator": "Operations", "/tracing/compliance": "Venue-code compliance"}
EVERY = {**CITIZEN, **INSPECTOR, **EPIDEMIOLOGIST, **AUTHORITY, **OPERATOR}


@dataclass(frozen=True)
class Role:
    name: str
    pages: dict[str, str]


async def follow_links(page: Page, origin: str, pages: dict[str, str]) -> list[str]:
    """From the home page, click each page's link and back; the headings seen, in order."""
    await page.goto(f"{origin}/")  # the only URL typed
    home = page.locator("h1")
    await expect(home).to_have_text("Venue code registry")
    hrefs = "(links) => links.map((a) => a.getAttribute('href'))"
    offered = set(await page.locator("main a[href^='/']").evaluate_all(hrefs))
    assert set(pages) <= offered, sorted(set(pages) - offered)
    assert not (set(EVERY) - set(pages)) & offered, sorted((set(EVERY) - set(pages)) & offered)
    seen = []
    for path, heading in pages.items():
        await page.locator(f"main a[href='{path}']").first.click()
        await page.wait_for_url(f"{origin}{path}")
        await expect(page.locator("h1").first).to_have_text(heading)
        seen.append(heading)
        await page.locator("header a.brand").click()
        await page.wait_for_url(f"{origin}/")
    return seen


async def test_each_role_reaches_every_page_of_its_own_by_links(
    platform: Platform, venue: Venue, context: BrowserContext
) -> None:
    citizen = await Account.register(platform.origin, "黃小明", 30)
    epidemiologist = await Account.register(platform.origin, "流調員乙", 40)
    authority = await Account.register(platform.origin, "衛生局乙", 50)
    operator = await Account.register(platform.origin, "運維員", 35)
    await grant_role(platform.infra, epidemiologist.id_number, "epidemiologist")
    await grant_role(platform.infra, authority.id_number, "health_authority")
    await grant_role(platform.infra, operator.id_number, "operator")
    roles = [
        (citizen, CITIZEN),
        (venue.inspector, {**CITIZEN, **INSPECTOR}),
        (epidemiologist, {**CITIZEN, **EPIDEMIOLOGIST}),
        (authority, {**CITIZEN, **AUTHORITY}),
        (operator, {**CITIZEN, **OPERATOR}),
    ]
    for person, pages in roles:
        await context.clear_cookies()
        await person.into(context)  # roles are read at sign-in: after the grants above
        page = await context.new_page()
        seen = await follow_links(page, platform.origin, pages)
        assert seen == list(pages.values()), person.name
        await page.close()

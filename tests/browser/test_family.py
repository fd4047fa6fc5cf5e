"""The family page: a person reads what a guardian's request allows, accepts it, and revokes it;
the guardian sees the request wait and then take effect (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from shared.pii import mask_name
from tests.browser.conftest import Platform
from tests.browser.kit import Account, shoot

pytestmark = pytest.mark.browser


async def test_a_request_is_accepted_then_revoked_on_the_family_page(
    platform: Platform, context: BrowserContext, screenshots: Path
) -> None:
    guardian = await Account.register(platform.origin, "周女兒", 40)
    mother = await Account.register(platform.origin, "周媽媽", 58)
    asked = await guardian.call(
        "POST",
        "/api/registry/v1/dependents",
        json={
            "name": mother.name,
            "id_kind": "mainland_id",
            "id_number": mother.id_number,
            "relation": "parent",
        },
    )
    assert asked.json()["state"] == "pending", asked.text

    await mother.into(context)
    page = await context.new_page()
    await page.goto(f"{platform.origin}/registry/family?lang=en")
    theirs = page.locator("[data-guardians] li")
    await expect(theirs).to_have_count(1)
    await expect(theirs).to_contain_text(mask_name(guardian.name))
    await expect(theirs).to_contain_text("read your health code")
    await shoot(page, screenshots, "family-1-request")
    await theirs.get_by_role("button", name="Accept").click()
    await expect(theirs.get_by_role("button", name="Revoke")).to_be_visible()
    listed = await guardian.call("GET", "/api/registry/v1/dependents")
    assert [d["state"] for d in listed.json()["dependents"]] == ["active"]

    await theirs.get_by_role("button", name="Revoke").click()
    await expect(theirs).to_have_text("None yet")
    listed = await guardian.call("GET", "/api/registry/v1/dependents")
    assert listed.json()["dependents"] == []

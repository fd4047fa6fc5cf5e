"""Issue 16, the administrator's journey in Simplified Chinese, by clicks only: set the venue up
(province -> city -> district picker and the address), bind an inspector, print the poster.

Screenshots go to artifacts/screenshots/ on every run, and to docs/screenshots/ only when
VENUECODE_SCREENSHOTS=1 (the committed copies are from such a run). The browser runs in New
York's zone: the times it shows must still be Shanghai's.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import PHONE, WAIT_MS, Platform
from tests.browser.kit import Account, shoot

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _keep(source: Path) -> None:
    if os.environ.get("VENUECODE_SCREENSHOTS") == "1":
        shutil.copyfile(source, DOCS / source.name)


async def _snap(page: Page, folder: Path, name: str) -> None:
    await shoot(page, folder, name, full_page=True)
    _keep(folder / f"{name}.png")


async def test_administrator_sets_up_binds_and_prints(
    platform: Platform, browser: Browser, screenshots: Path, tmp_path: Path
) -> None:
    admin = await Account.register(platform.origin, "黄志强", 42)
    inspector = await Account.register(platform.origin, "梁美玲", 31)
    await admin.sign_in()
    await inspector.sign_in()

    context = await browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id="America/New_York", accept_downloads=True
    )
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    try:
        await admin.into(context)
        page = await context.new_page()
        await page.goto(f"{platform.origin}/registry/venue?lang=zh-Hans")
        form = page.locator("[data-create-venue]")
        await expect(form).to_be_visible()
        # Guangdong is preselected; the city list is Guangdong's 21 cities.
        await expect(page.locator("#rp-province")).to_have_value("440000")
        await page.select_option("#rp-city", label="江门市")
        district = page.locator("#rp-district option", has_text="开平市")
        await expect(district).to_have_count(1)  # filled from GET /api/registry/v1/regions
        await page.select_option("#rp-district", label="开平市")
        await page.fill("#venue_name", "百佳超市长沙店")
        await page.fill("#address", "长沙街道幕沙路1号")
        await page.select_option("#category", "supermarket")
        await _snap(page, screenshots, "journey-admin-1-set-up")
        await form.get_by_role("button", name="登记场所").click()

        mine = page.locator("[data-my-venue]")
        await expect(mine).to_be_visible()
        await expect(mine.locator("[data-field=region]")).to_have_text("广东省 江门市 开平市 (440783)")
        await expect(mine.locator("[data-field=address]")).to_have_text("长沙街道幕沙路1号")
        code = (await mine.locator("[data-field=declaration_code]").inner_text()).strip()
        await _snap(page, screenshots, "journey-admin-2-declaration-code")

        # The inspector binds with the declaration code the administrator shared.
        staff = await browser.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True)
        staff.set_default_timeout(WAIT_MS)
        try:
            await inspector.into(staff)
            bind = await staff.new_page()
            await bind.goto(f"{platform.origin}/registry/inspector?lang=zh-Hans")
            await bind.fill("#declaration_code", code)
            await bind.get_by_role("button", name="绑定场所").click()
            venue = bind.locator("[data-venues] li", has_text="百佳超市长沙店")
            await expect(venue).to_contain_text("江门市 开平市")
            await _snap(bind, screenshots, "journey-admin-3-inspector-bound")

            # The administrator sees the inspector listed (masked).
            await page.reload()
            await expect(page.locator("[data-inspectors]")).to_contain_text("梁*玲")
            await _snap(page, screenshots, "journey-admin-4-inspectors")

            # Print: the inspector downloads the A4 poster.
            async with bind.expect_download() as downloading:
                await venue.get_by_role("link", name="下载海报（PDF）").click()
            download = await downloading.value
            pdf = tmp_path / "poster.pdf"
            await download.save_as(pdf)
            assert pdf.read_bytes().startswith(b"%PDF")
        finally:
            await staff.close()
    finally:
        await context.close()

    printed = await admin.call("GET", "/api/registry/v1/venues/mine")
    assert printed.json()["region_names"] == {"province": "广东省", "city": "江门市", "district": "开平市"}
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (Debian's poppler-utils) is missing: the poster was not rendered to PNG")
    target = screenshots / "journey-admin-5-poster"
    await asyncio.to_thread(
        subprocess.run,
        [pdftoppm, "-png", "-r", "60", "-singlefile", str(pdf), str(target)],
        check=True,
    )
    _keep(target.with_suffix(".png"))

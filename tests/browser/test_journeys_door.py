"""Journeys at the door, in Simplified Chinese, with screenshots (issue 16).

- An inspector on a phone without ``BarcodeDetector`` (as iOS Safari and WeChat on iOS are) scans
  an elder's health code with the camera: the QR is decoded in JavaScript by jsQR,
  served from node_modules. A fever shows a warning that must be ticked before 确认放行; the
  entry is then recorded with its fever, in tracing's store too.
- A helper (an inspector) looks up an elder who is not registered, registers him on the spot
  from his ID card, sees his colour and his 10-second health code, and lets him in in one step.

Screenshots go to ``docs/screenshots/`` (committed, shown by the README) only when
``VENUECODE_SCREENSHOTS=1``, so that CI leaves the tree clean; otherwise to artifacts/.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import segno
from playwright.async_api import Browser, BrowserContext, async_playwright, expect

from shared.pii import mask_name
from tests.browser.conftest import CHROMIUM_ARGS, PHONE, WAIT_MS, Platform
from tests.browser.kit import Account, shoot
from tests.browser.venue import Venue
from tests.people import born_years_ago, mainland_id
from tests.qr import qr_text
from tests.waiting import eventually

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The camera's picture: a QR on white, as a phone held to another phone's screen would see it.
WIDTH, HEIGHT = 640, 480


def folder(screenshots: Path) -> Path:
    if os.environ.get("VENUECODE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return screenshots


def camera_file(text: str, path: Path, frames: int = 5) -> Path:
    """A Y4M video of the QR of ``text``: what Chromium's fake camera shows (it loops the file)."""
    rows = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=1, border=4)]
    scale = min(WIDTH, HEIGHT) * 9 // 10 // len(rows)
    side = scale * len(rows)
    left, top = (WIDTH - side) // 2, (HEIGHT - side) // 2
    luma = bytearray(b"\xeb" * (WIDTH * HEIGHT))  # white (235) in the video range
    for y in range(side):
        row = rows[y // scale]
        start = (top + y) * WIDTH + left
        luma[start : start + side] = bytes(0x10 if row[x // scale] else 0xEB for x in range(side))
    chroma = b"\x80" * (WIDTH * HEIGHT // 2)  # both 4:2:0 colour planes: grey
    frame = b"FRAME\n" + bytes(luma) + chroma
    path.write_bytes(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)
    return path


async def chinese(context: BrowserContext, origin: str) -> None:
    await context.add_cookies([{"name": "vc_lang", "value": "zh-Hans", "url": origin}])


async def stored_checkins(platform: Platform, person_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(platform.infra.postgres_url)
    try:
        return await conn.fetch(
            "SELECT venue_id::text, method, temperature_band, inspector_id::text FROM tracing.checkins"
            " WHERE person_id = $1",
            person_id,
        )
    finally:
        await conn.close()


@pytest.fixture
async def camera_browser(chromium: Path, tmp_path: Path) -> AsyncIterator[tuple[Browser, Path]]:
    """A Chromium whose camera shows ``tmp_path/camera.y4m`` (written by the test before it opens)."""
    video = tmp_path / "camera.y4m"
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    async with async_playwright() as playwright:
        yield (await playwright.chromium.launch(executable_path=str(chromium), args=args)), video


async def test_inspector_scans_with_the_camera_and_lets_a_fever_in_only_when_acknowledged(
    platform: Platform, venue: Venue, camera_browser: tuple[Browser, Path], screenshots: Path
) -> None:
    shots = folder(screenshots)
    browser, video = camera_browser
    elder = await Account.register(platform.origin, "何文田", 72)
    code = await elder.health_code()

    async def verifiable() -> bool:
        # Status and checkin learn the binding from inspector.bound (Kafka).
        answer = await venue.inspector.call(
            "POST", "/api/status/v1/health-codes/verify", json={"token": code["token"]}
        )
        return answer.status_code == 200

    await eventually(verifiable, timeout_s=60)
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", reduced_motion="reduce")
    context.set_default_timeout(WAIT_MS)
    await context.grant_permissions(["camera"], origin=platform.origin)
    await chinese(context, platform.origin)
    await venue.inspector.into(context)
    page = await context.new_page()

    async def venue_offered() -> bool:
        await page.goto(f"{platform.origin}/checkin/inspect")
        return await page.locator(f"[data-venue] option[value='{venue.venue_id}']").count() == 1

    await eventually(venue_offered, timeout_s=60)
    # Debian's Chromium has no BarcodeDetector on Linux: the page takes the iPhone's path.
    assert not await page.evaluate("'BarcodeDetector' in window")
    # A fresh code (60 s) on the camera, as the elder's phone shows it.
    token = (await elder.health_code())["token"]
    camera_file(token, video)
    await page.reload()
    async with page.expect_response("**/checkin/vendor/qr-decoder.js") as served:
        await page.click("[data-camera]")
    assert (await served.value).status == 200
    card = page.locator("[data-person]")
    # The first frame decodes (tests/browser/test_qr_decoder.py reads every kind of code); the
    # minute is for a loaded machine's Chromium, not a rule.
    await expect(card).to_be_visible(timeout=60_000)
    await expect(page.locator("[data-code]")).to_have_value(token)
    await expect(card.locator("[data-masked-name]")).to_have_text(mask_name(elder.name))
    await expect(card.locator("[data-code-type]")).to_have_text("绿码")
    await shoot(page, shots, "inspector-fever-1-scanned", full_page=True)

    await page.click("[data-band=fever]")
    warning = page.locator("[data-fever] [role=alert]")
    await expect(warning).to_be_visible()
    await expect(warning).to_contain_text("发热")
    confirm = page.locator("[data-confirm]")
    await expect(confirm).to_have_text("确认放行")
    await expect(confirm).to_be_disabled()
    await shoot(page, shots, "inspector-fever-2-warning", full_page=True)

    await page.check("[data-fever-ack]")
    async with page.expect_response("**/api/checkin/v1/inspections") as answered:
        await confirm.click()
    response = await answered.value
    assert response.status == 201, await response.text()
    assert response.request.post_data_json == {
        "venue_id": venue.venue_id,
        "health_code_token": token,
        "temperature_band": "fever",
        "fever_acknowledged": True,
    }
    await expect(page.locator("[data-done]")).to_have_text("已确认放行")
    await shoot(page, shots, "inspector-fever-3-recorded", full_page=True)
    await context.close()

    async def stored() -> list[asyncpg.Record]:
        return await stored_checkins(platform, elder.person_id)

    [row] = await eventually(stored, timeout_s=60)
    assert dict(row) == {
        "venue_id": venue.venue_id,
        "method": "inspector_scan",
        "temperature_band": "fever",
        "inspector_id": venue.inspector.person_id,
    }


async def test_helper_registers_an_unregistered_elder_and_lets_him_in(
    platform: Platform, venue: Venue, context: BrowserContext, screenshots: Path
) -> None:
    shots = folder(screenshots)
    born = born_years_ago(78)
    number, name = mainland_id(born), "黄德胜"
    await chinese(context, platform.origin)
    await venue.inspector.into(context)
    page = await context.new_page()

    async def venue_offered() -> bool:
        await page.goto(f"{platform.origin}/status/assisted-lookup")
        option = page.locator(f"[data-venue] option[value='{venue.venue_id}']")
        await expect(page.locator("[data-lookup]")).to_be_visible()
        return await option.count() == 1

    await eventually(venue_offered, timeout_s=60)
    await page.fill("#name", name)
    await page.fill("#id_number", number)
    async with page.expect_response("**/api/status/v1/assisted-lookups") as asked:
        await page.click("[data-lookup] button[type=submit]")
    assert (await asked.value).status == 404
    register = page.locator("[data-register]")
    await expect(register).to_be_visible()
    await expect(register.locator("[data-register-who]")).to_have_text(name)
    await shoot(page, shots, "helper-lookup-1-not-registered", full_page=True)

    await page.fill("#birth_date", born.isoformat())
    async with page.expect_response("**/api/registry/v1/assisted-registrations") as made:
        await register.locator("button[type=submit]").click()
    registration = await made.value
    assert registration.status == 201, await registration.text()
    person_id = (await registration.json())["person_id"]

    result = page.locator("[data-result]")
    await expect(result.locator("[data-masked-name]")).to_have_text(mask_name(name), timeout=60_000)
    await expect(result.locator("[data-code-type]")).to_have_text("绿码")
    await expect(page.locator("#name")).to_have_value("")
    shot = await shoot(page, shots, "helper-lookup-2-found", full_page=True)
    # The code on the screen scans: it is the elder's own health code, for 10 seconds.
    verified = await venue.inspector.call(
        "POST", "/api/status/v1/health-codes/verify", json={"token": qr_text(shot.png)}
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["person_id"] == person_id

    enter = result.locator("[data-enter]")
    await expect(enter).to_have_text("确认放行")
    async with page.expect_response("**/api/checkin/v1/inspections") as answered:
        await enter.click()
    response = await answered.value
    assert response.status == 201, await response.text()
    sent = response.request.post_data_json
    assert isinstance(sent, dict)
    assert (sent["venue_id"], sent["temperature_band"]) == (venue.venue_id, "normal")
    assert (await response.json())["person_id"] == person_id
    entered = page.locator("[data-entered]")
    await expect(entered).to_have_text(f"已确认放行 · {mask_name(name)}")
    await expect(result).to_be_hidden()
    await shoot(page, shots, "helper-lookup-3-entered", full_page=True)
    assert number not in await page.content()

    async def stored() -> list[asyncpg.Record]:
        return await stored_checkins(platform, person_id)

    [row] = await eventually(stored, timeout_s=60)
    assert (row["venue_id"], row["method"], row["temperature_band"]) == (
        venue.venue_id,
        "inspector_scan",
        "normal",
    )


async def test_the_quick_check_in_link_records_its_temperature_band(
    platform: Platform, venue: Venue, context: BrowserContext
) -> None:
    citizen = await Account.register(platform.origin, "梁小玲", 30)
    await citizen.into(context)
    page = await context.new_page()
    # The inspector's "temperature normal, quick check-in" link (registry's inspector page).
    quick = f"{venue.url}?temperature_band=normal"

    async def form_shown() -> bool:
        await page.goto(quick)
        return await page.locator("input[name=person_id]").count() > 0

    await eventually(form_shown, timeout_s=60)
    async with page.expect_response("**/api/checkin/v1/scans") as answered:
        await page.click("[data-confirm]")
    response = await answered.value
    assert response.status == 201, await response.text()
    sent = response.request.post_data_json
    assert isinstance(sent, dict)
    assert sent["temperature_band"] == "normal"

    async def stored() -> list[asyncpg.Record]:
        return await stored_checkins(platform, citizen.person_id)

    [row] = await eventually(stored, timeout_s=60)
    assert (row["method"], row["temperature_band"]) == ("self_scan", "normal")

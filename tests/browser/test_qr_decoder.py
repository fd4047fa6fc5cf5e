"""The reverse scan's JavaScript decoder reads every health code a citizen can be shown (issue 16).

Where the browser has no ``BarcodeDetector`` (iOS Safari, WeChat on iOS), the inspector's camera
frames are decoded by the file served at /checkin/vendor/qr-decoder.js. Its predecessor, zxing-js,
read none of about one code in twelve however often it looked (zxing-js/library#653): the QR is
the same in every frame, so the inspector would have stood there. Here Chromium draws the codes
as status serves them (the SVG of ``services.status.api``), at the two sizes a phone held to
another phone's screen sees, and the served decoder must read every one back.
"""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.async_api import BrowserContext

from services.status.api import _qr_svg
from shared.keys import SigningKeys
from shared.tokens import TokenSigner
from tests.browser.conftest import Platform

pytestmark = pytest.mark.browser

# Each code once as a small picture (~4 px a module) and once as a large one (~9 px a module).
SIDES = (216, 432)

# Draws each SVG on a camera-sized white frame and decodes the frame's pixels, as inspect.js does.
DECODE_ALL = """async ({ svgs, sides }) => {
  const canvas = document.createElement("canvas");
  canvas.width = 640; canvas.height = 480;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const read = [];
  for (const svg of svgs) {
    const image = new Image();
    image.src = "data:image/svg+xml;base64," + svg;
    await image.decode();
    for (const side of sides) {
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, (canvas.width - side) / 2, (canvas.height - side) / 2, side, side);
      const frame = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(frame.data, frame.width, frame.height);
      read.push(code ? code.data : null);
    }
  }
  return read;
}"""


def shown_codes() -> list[str]:
    """Codes of the kinds an inspector scans: dynamic codes and paper cards, each a person's own."""
    signer = TokenSigner(SigningKeys(Ed25519PrivateKey.generate(), (), None))
    people = [uuid.uuid4() for _ in range(80)]
    dynamic = [signer.health_code(person)[0] for person in people[:60]]
    paper = [signer.paper_code(person, serial) for serial, person in enumerate(people[60:], start=1)]
    return dynamic + paper


async def test_the_served_decoder_reads_every_code_a_citizen_is_shown(
    platform: Platform, context: BrowserContext
) -> None:
    codes = shown_codes()
    page = await context.new_page()
    await page.goto(f"{platform.origin}/")
    async with page.expect_response("**/checkin/vendor/qr-decoder.js") as served:
        await page.add_script_tag(url="/checkin/vendor/qr-decoder.js")
    assert (await served.value).status == 200
    svgs = [base64.b64encode(_qr_svg(code)).decode() for code in codes]
    read = await page.evaluate(DECODE_ALL, {"svgs": svgs, "sides": list(SIDES)})
    expected = [code for code in codes for _ in SIDES]
    assert len(read) == len(expected) == 160
    unread = [
        (i // len(SIDES), SIDES[i % len(SIDES)])
        for i, (got, want) in enumerate(zip(read, expected, strict=True))
        if got != want
    ]
    assert unread == [], f"codes (index, side in px) the inspector's camera could not read: {unread}"

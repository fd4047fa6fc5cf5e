"""The one way a test reads a QR from a picture, as a scanner would."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def qr_text(picture: bytes | Image.Image) -> str:
    """The text of the one QR in ``picture`` (PNG bytes or an image).

    zxing-cpp sometimes reports one symbol twice (seen on a poster and on a paper card), so the
    rule is one distinct QR text, not one result; a second, different QR fails the test.
    """
    image = Image.open(io.BytesIO(picture)) if isinstance(picture, bytes) else picture
    decoded = zxingcpp.read_barcodes(image)
    texts = {code.text for code in decoded if code.format == zxingcpp.BarcodeFormat.QRCode}
    assert len(texts) == 1, [(code.format, code.text) for code in decoded]
    return texts.pop()

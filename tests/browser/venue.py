"""A venue with an administrator and a bound inspector, and the check-in URL read from its PNG poster."""

from __future__ import annotations

import io
from dataclasses import dataclass

import zxingcpp
from PIL import Image

from tests.browser.kit import Account


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
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert len(decoded) == 1, decoded
    return Venue(venue_id, name, decoded[0].text, inspector)

"""Venue codes: PNG, SVG and the PDF poster, for bound inspectors only; the QR round-trips."""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image

from shared.keys import load_keys
from shared.tokens import TokenSigner
from tests.integration.registry.conftest import sign_up

VENUES = "/api/registry/v1/venues"


async def bound_venue(client):
    admin, inspector = await sign_up(client), await sign_up(client, "李四")
    venue = (
        await client.post(
            VENUES, json={"region_code": "440305", "name": "深圳市某某超市"}, headers=admin.auth
        )
    ).json()
    bound = await client.post(
        "/api/registry/v1/inspector-bindings",
        json={"declaration_code": venue["declaration_code"]},
        headers=inspector.auth,
    )
    assert bound.status_code == 201
    return admin, inspector, venue


def decode_qr(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1
    return found[0].text


async def test_png_round_trips_to_the_check_in_url(client, infra):
    _admin, inspector, venue = await bound_venue(client)
    answer = await client.get(
        f"{VENUES}/{venue['venue_id']}/code", params={"format": "png"}, headers=inspector.auth
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content))
    assert min(image.size) >= 600
    url = decode_qr(answer.content)
    prefix = f"{infra.public_base_url}/c/"
    assert url.startswith(prefix)
    claim = TokenSigner(load_keys(infra).tokens).open_venue_token(url[len(prefix) :])
    assert str(claim.venue_id) == venue["venue_id"]
    assert claim.poster_version == 1
    found = zxingcpp.read_barcodes(image)[0]
    assert found.ec_level == "Q"


async def test_reissued_poster_carries_the_new_version(client, infra):
    admin, inspector, venue = await bound_venue(client)
    await client.post(f"{VENUES}/{venue['venue_id']}/poster/reissue", headers=admin.auth)
    answer = await client.get(f"{VENUES}/{venue['venue_id']}/code", headers=inspector.auth)
    token = decode_qr(answer.content).rsplit("/", 1)[1]
    assert TokenSigner(load_keys(infra).tokens).open_venue_token(token).poster_version == 2


async def test_svg_and_pdf(client):
    _admin, inspector, venue = await bound_venue(client)
    svg = await client.get(
        f"{VENUES}/{venue['venue_id']}/code", params={"format": "svg"}, headers=inspector.auth
    )
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    pdf = await client.get(
        f"{VENUES}/{venue['venue_id']}/code", params={"format": "pdf"}, headers=inspector.auth
    )
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf.content)) == 1


async def test_only_bound_inspectors_get_the_code(client):
    admin, inspector, venue = await bound_venue(client)
    stranger = await sign_up(client, "王五")
    path = f"{VENUES}/{venue['venue_id']}/code"
    assert (await client.get(path, headers=stranger.auth)).status_code == 403
    # The administrator is not an inspector until bound.
    assert (await client.get(path, headers=admin.auth)).status_code == 403
    assert (await client.get(path)).status_code == 401
    unknown = f"{VENUES}/00000000-0000-7000-8000-000000000000/code"
    assert (await client.get(unknown, headers=inspector.auth)).status_code == 403
    await client.delete(f"/api/registry/v1/inspector-bindings/{venue['venue_id']}", headers=inspector.auth)
    assert (await client.get(path, headers=inspector.auth)).status_code == 403


async def test_unknown_format_is_422(client):
    _admin, inspector, venue = await bound_venue(client)
    answer = await client.get(
        f"{VENUES}/{venue['venue_id']}/code", params={"format": "gif"}, headers=inspector.auth
    )
    assert answer.status_code == 422

"""The check-in pages render from the read model, in three languages, and send strangers to sign in."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.checkin.config import QR_DECODER
from shared.auth import SESSION_COOKIE, AccessTokens
from shared.errors import PROBLEM_JSON
from shared.events import VenuePosterReissued, VenuePosterReissuedData
from shared.keys import load_keys
from shared.settings import InfraSettings
from tests.integration.checkin.kit import World, applied, send_registry, venue_token


def sign_in(client: httpx.AsyncClient, infra: InfraSettings, person: object) -> None:
    token = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 3600).issue(person, [])  # type: ignore[arg-type]
    client.cookies.set(SESSION_COOKIE, token)


async def test_signed_out_visitors_are_sent_to_sign_in(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    token = venue_token(app, world.venue_id)
    response = await client.get(f"/c/{token}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/registry/login?next=%2Fc%2F{token}"
    inspect = await client.get("/checkin/inspect")
    assert inspect.status_code == 303
    assert inspect.headers["location"].startswith("/registry/login?next=")


async def test_the_poster_page_lists_the_caller_and_dependents(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    sign_in(client, infra, world.citizen)
    token = venue_token(app, world.venue_id)
    response = await client.get(f"/c/{token}", params={"lang": "zh-Hans"})
    assert response.status_code == 200
    html = response.text
    assert world.venue_name in html
    assert "張*明" in html
    assert "張*兒" in html
    assert f'value="{world.citizen}" checked' in html
    assert f'value="{world.child}">' in html
    assert "确认打卡" in html
    assert '<script src="/checkin/static/scan.js" defer>' in html
    assert "<script>" not in html  # the CSP forbids inline scripts
    assert "script-src 'self'" in response.headers["content-security-policy"]
    english = await client.get(f"/c/{token}", params={"lang": "en"})
    assert "Confirm check-in" in english.text
    hant = await client.get(f"/c/{token}", headers={"Accept-Language": "zh-HK"})
    assert "確認打卡" in hant.text


async def test_the_poster_page_explains_bad_and_old_codes(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    sign_in(client, infra, world.citizen)
    token = venue_token(app, world.venue_id)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    bad = await client.get(f"/c/{tampered}", params={"lang": "en"})
    assert bad.status_code == 422
    assert "not valid" in bad.text
    reissued = VenuePosterReissued(data=VenuePosterReissuedData(venue_id=world.venue_id, poster_version=5))
    await send_registry(app, [reissued], key=str(world.venue_id).encode())
    await applied(app, [reissued])
    old = await client.get(f"/c/{token}", params={"lang": "en"})
    assert old.status_code == 410
    assert "print" in old.text


async def test_the_inspector_page_offers_bound_venues_only(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    sign_in(client, infra, world.inspector)
    page = await client.get("/checkin/inspect", params={"lang": "en"})
    assert page.status_code == 200
    assert f'<option value="{world.venue_id}">{world.venue_name}</option>' in page.text
    assert "data-code autofocus" in page.text
    assert "/api/status/v1/health-codes/verify" in page.text
    assert '<script src="/checkin/static/inspect.js" defer>' in page.text
    sign_in(client, infra, world.stranger)
    outsider = await client.get("/checkin/inspect", params={"lang": "en"})
    assert "not bound to any venue" in outsider.text
    assert "data-venue" not in outsider.text


async def test_page_scripts_are_served(client: httpx.AsyncClient) -> None:
    scan = await client.get("/checkin/static/scan.js")
    assert scan.status_code == 200
    assert "localStorage" in scan.text
    assert "Idempotency-Key" in scan.text
    assert "colour-" in scan.text
    inspect = await client.get("/checkin/static/inspect.js")
    assert "BarcodeDetector" in inspect.text
    css = await client.get("/checkin/static/checkin.css")
    assert "@keyframes" in css.text


async def test_the_reverse_scan_says_confirm_entry_and_serves_its_qr_decoder_from_node_modules(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    sign_in(client, infra, world.inspector)
    page = await client.get("/checkin/inspect", params={"lang": "zh-Hans"})
    assert page.status_code == 200
    assert "确认放行" in page.text
    assert 'data-decoder="/checkin/vendor/qr-decoder.js"' in page.text
    assert "data-fever-ack" in page.text
    assert "確認放行" in (await client.get("/checkin/inspect", params={"lang": "zh-Hant"})).text
    decoder = await client.get("/checkin/vendor/qr-decoder.js")
    assert decoder.status_code == 200
    assert decoder.headers["content-type"].startswith("text/javascript")
    # The file npm ci installed from package-lock.json, byte for byte: never a copy in the repository.
    assert decoder.content == QR_DECODER.read_bytes()
    assert b"jsQR" in decoder.content


async def test_without_the_decoder_installed_its_route_is_404(
    client: httpx.AsyncClient, app: FastAPI, tmp_path: Path
) -> None:
    app.state.services = replace(app.state.services, qr_decoder=tmp_path / "absent.js")
    missing = await client.get("/checkin/vendor/qr-decoder.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON

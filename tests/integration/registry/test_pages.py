"""The registry's pages render in all three languages, with their scripts served beside them."""

from __future__ import annotations

import pytest

from tests.integration.registry.conftest import sign_up

PAGES = {
    "/": "場所碼登記",
    "/registry/register": "實名註冊",
    "/registry/login": "證件號碼",
    "/registry/family": "添加家庭成員",
    "/registry/venue": "場所申報碼",
    "/registry/inspector": "體溫正常，快速打卡",
}


@pytest.mark.parametrize(("path", "text"), PAGES.items())
async def test_each_page_renders_in_traditional_chinese(client, path, text):
    answer = await client.get(path, params={"lang": "zh-Hant"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert text in answer.text
    assert "<script>" not in answer.text  # CSP: scripts come from files only
    assert answer.headers["cache-control"] == "no-store"


async def test_languages(client):
    hans = await client.get("/registry/register", params={"lang": "zh-Hans"})
    assert "实名注册" in hans.text
    english = await client.get("/registry/register", params={"lang": "en"})
    assert "Register" in english.text
    assert "no face or identity-service verification" in english.text


async def test_home_offers_the_signed_in_pages_after_sign_in(client):
    account = await sign_up(client)
    assert "/registry/venue" not in (await client.get("/")).text
    await client.post(
        "/api/registry/v1/sessions", json={"id_number": account.id_number, "password": "correct horse"}
    )
    home = await client.get("/", params={"lang": "en"})
    assert "/registry/venue" in home.text
    assert "/registry/inspector" in home.text


async def test_an_expired_cookie_still_opens_the_page(client):
    client.cookies.set("vc_session", "not-a-token")
    answer = await client.get("/registry/family")
    assert answer.status_code == 200


@pytest.mark.parametrize("script", ["registry.js", "family.js", "venue.js", "inspector.js"])
async def test_page_scripts_are_served(client, script):
    answer = await client.get(f"/registry/static/{script}")
    assert answer.status_code == 200
    assert "javascript" in answer.headers["content-type"]

"""The epidemiologist console renders in the three languages and loads its script, with no inline code."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.mark.parametrize(
    ("lang", "title", "reason"),
    [
        ("zh-Hant", "流調控制台", "密切接觸者"),
        ("zh-Hans", "流调控制台", "密切接触者"),
        ("en", "Contact tracing console", "Close contact"),
    ],
)
async def test_the_console_renders_in_each_language(
    client: httpx.AsyncClient, lang: str, title: str, reason: str
) -> None:
    async with client:
        page = await client.get("/tracing/console", params={"lang": lang})

    assert page.status_code == 200
    assert f'<html lang="{lang}"' in page.text
    assert title in page.text
    assert reason in page.text
    assert '<script src="/tracing/static/console.js" defer></script>' in page.text
    assert not re.search(r"<script>(?!</script>)", page.text)  # CSP forbids inline scripts
    assert " style=" not in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_the_console_assets_are_served(client: httpx.AsyncClient) -> None:
    async with client:
        script = await client.get("/tracing/static/console.js")
        style = await client.get("/tracing/static/console.css")

    assert script.status_code == 200
    assert "/api/tracing/v1/contact-queries" in script.text or "contact-queries" in script.text
    assert style.status_code == 200

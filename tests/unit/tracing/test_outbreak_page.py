"""The outbreak picture page renders in the three languages, loads its own script, and has no inline code."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.mark.parametrize(
    ("lang", "title", "graphml", "alerts"),
    [
        ("zh-Hant", "疫情群組分析", "下載 GraphML", "場所預警"),
        ("zh-Hans", "疫情聚集分析", "下载 GraphML", "场所预警"),
        ("en", "Outbreak picture", "GraphML (Gephi, Cytoscape)", "Venue alerts"),
    ],
)
async def test_the_outbreak_page_renders_in_each_language(
    client: httpx.AsyncClient, lang: str, title: str, graphml: str, alerts: str
) -> None:
    async with client:
        page = await client.get("/tracing/outbreak", params={"lang": lang})

    assert page.status_code == 200
    assert f'<html lang="{lang}"' in page.text
    assert title in page.text
    assert graphml in page.text
    assert alerts in page.text
    assert '<script src="/tracing/static/outbreak.js" defer></script>' in page.text
    assert not re.search(r"<script>(?!</script>)", page.text)  # CSP forbids inline scripts
    assert " style=" not in page.text
    assert " on" + "click=" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_the_outbreak_assets_are_served(client: httpx.AsyncClient) -> None:
    async with client:
        script = await client.get("/tracing/static/outbreak.js")
        style = await client.get("/tracing/static/outbreak.css")

    assert script.status_code == 200
    assert "/api/tracing/v1/exposure-analyses" in script.text
    assert "eval(" not in script.text
    assert "innerHTML" not in script.text  # text goes in as text: venue names are user input
    assert style.status_code == 200

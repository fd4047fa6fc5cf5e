"""The status pages render in the three languages, with their scripts served locally."""

from __future__ import annotations

from uuid import uuid4

import pytest

from shared.auth import SESSION_COOKIE
from tests.integration.status.conftest import StatusHarness

LANGUAGE_MARKERS = {"zh-Hant": "健康碼", "zh-Hans": "健康码", "en": "Health code"}
PAGES = {
    "/status/health-code": {"zh-Hant": "紅碼", "zh-Hans": "红码", "en": "Red code"},
    "/status/assisted-lookup": {"zh-Hant": "老幼助查", "zh-Hans": "老幼助查", "en": "Assisted lookup"},
    "/status/authority": {
        "zh-Hant": "設定健康碼狀態",
        "zh-Hans": "设定健康码状态",
        "en": "Set a health-code status",
    },
}


@pytest.mark.parametrize("path", sorted(PAGES))
async def test_pages_in_three_languages(harness: StatusHarness, path: str) -> None:
    person = await harness.register()
    session = harness.tokens.issue(person.person_id, ["health_authority"])
    for lang, marker in PAGES[path].items():
        answer = await harness.client.get(path, params={"lang": lang}, cookies={SESSION_COOKIE: session})
        assert answer.status_code == 200, (path, lang)
        assert f'lang="{lang}"' in answer.text
        assert marker in answer.text
        assert "<script>" not in answer.text  # the CSP forbids inline scripts


async def test_health_code_page_offers_dependents(harness: StatusHarness) -> None:
    guardian = await harness.register()
    child = await harness.register("陳小華")
    await harness.link_guardian(guardian.person_id, child.person_id)
    session = harness.tokens.issue(guardian.person_id, [])
    answer = await harness.client.get("/status/health-code", cookies={SESSION_COOKIE: session})
    assert f'value="{child.person_id}"' in answer.text
    assert child.masked_name in answer.text


async def test_pages_without_session_offer_sign_in(harness: StatusHarness) -> None:
    for path in PAGES:
        answer = await harness.client.get(path, params={"lang": "en"})
        assert answer.status_code == 200
        assert "/registry/login" in answer.text


async def test_authority_page_refuses_other_accounts(harness: StatusHarness) -> None:
    session = harness.tokens.issue(uuid4(), [])
    answer = await harness.client.get(
        "/status/authority", params={"lang": "en"}, cookies={SESSION_COOKIE: session}
    )
    assert answer.status_code == 403
    assert "health authority only" in answer.text


@pytest.mark.parametrize("name", ["health_code.js", "lookup.js", "authority.js", "status.css"])
async def test_page_assets_are_served(harness: StatusHarness, name: str) -> None:
    answer = await harness.client.get(f"/status/static/{name}")
    assert answer.status_code == 200
    assert len(answer.content) > 100

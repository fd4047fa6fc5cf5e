"""Assisted lookup: mainland IDs only, the age bands, name matching by digest, limits and audit."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

from tests.integration.status.conftest import StatusHarness
from tests.people import born_years_ago, mainland_id
from tests.waiting import clear_of_window_edge

URL = "/api/status/v1/assisted-lookups"


async def test_elder_and_child_are_found_masked(harness: StatusHarness) -> None:
    elder = await harness.register("黃老伯", born_years_ago(75))
    child = await harness.register("陳小華", born_years_ago(8))
    await harness.put_status(elder.person_id, colour="yellow", reason="close_contact")
    caller = harness.auth(uuid4())
    answer = await harness.client.post(
        URL, json={"name": "黃老伯", "id_number": elder.id_number}, headers=caller
    )
    assert answer.status_code == 200
    body = answer.json()
    token, expires_at, qr = body.pop("token"), body.pop("token_expires_at"), body.pop("token_qr")
    assert body == {
        "masked_name": "黃*伯",
        "colour": "yellow",
        "reason": "close_contact",
        "reason_text": "Close contact",
        "display_seconds": 10,
    }
    # The elder's own dynamic health code, for the same 10 s: what the inspector scans.
    claim = harness.app.state.services.runtime.signer.open_health_code(token)
    assert (claim.person_id, claim.kind) == (elder.person_id, "dynamic")
    now = harness.clock.now()
    assert claim.expires_at == int(now.timestamp()) + 10
    assert datetime.fromisoformat(expires_at) == datetime.fromtimestamp(claim.expires_at, UTC)
    assert qr.startswith("data:image/svg+xml;base64,")
    assert b"<svg" in base64.b64decode(qr.split(",", 1)[1])
    found = await harness.client.post(
        URL, json={"name": "陳小華", "id_number": child.id_number}, headers=caller
    )
    assert found.status_code == 200
    assert found.json()["colour"] == "green"


async def test_sixteen_is_served_and_seventeen_is_not(harness: StatusHarness) -> None:
    # Their 16th and 17th birthdays are today, in Asia/Shanghai (the day the rule counts).
    today = harness.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    sixteen = await harness.register("何小芳", date(today.year - 16, today.month, min(today.day, 28)))
    seventeen = await harness.register("何大芳", date(today.year - 17, today.month, min(today.day, 28)))
    caller = harness.auth(uuid4())
    found = await harness.client.post(
        URL, json={"name": "何小芳", "id_number": sixteen.id_number}, headers=caller
    )
    assert found.status_code == 200, found.text
    assert found.json()["masked_name"] == "何*芳"
    refused = await harness.client.post(
        URL, json={"name": "何大芳", "id_number": seventeen.id_number}, headers=caller
    )
    assert refused.status_code == 403, refused.text


async def test_adults_are_refused_with_a_clear_message(harness: StatusHarness) -> None:
    adult = await harness.register("林大偉", born_years_ago(35))
    answer = await harness.client.post(
        URL, json={"name": "林大偉", "id_number": adult.id_number}, headers=harness.auth(uuid4())
    )
    assert answer.status_code == 403
    assert "60" in answer.json()["detail"]
    assert "16" in answer.json()["detail"]


async def test_only_valid_mainland_ids(harness: StatusHarness) -> None:
    caller = harness.auth(uuid4())
    for number in ["H12345678", "A1234567", "440106195001011234"]:  # permit, passport, bad check digit
        answer = await harness.client.post(URL, json={"name": "某人", "id_number": number}, headers=caller)
        assert answer.status_code == 422, number
        assert answer.json()["errors"][0]["field"] == "id_number"


async def test_name_must_match_the_number(harness: StatusHarness) -> None:
    elder = await harness.register("黃老伯", born_years_ago(70))
    caller = harness.auth(uuid4())
    wrong_name = await harness.client.post(
        URL, json={"name": "黃老太", "id_number": elder.id_number}, headers=caller
    )
    assert wrong_name.status_code == 404
    unknown = mainland_id(born_years_ago(80))
    nobody = await harness.client.post(URL, json={"name": "黃老伯", "id_number": unknown}, headers=caller)
    assert nobody.status_code == 404
    # Spacing and width differences in the name still match (the digest is of the normalised name).
    spaced = await harness.client.post(
        URL, json={"name": " 黃老伯 ", "id_number": elder.id_number}, headers=caller
    )
    assert spaced.status_code == 200


async def test_rate_limited_per_caller_and_audited(harness: StatusHarness) -> None:
    elder = await harness.register("黃老伯", born_years_ago(70))
    caller_id = uuid4()
    body = {"name": "黃老伯", "id_number": elder.id_number}
    await clear_of_window_edge(60)
    for _ in range(10):
        assert (await harness.client.post(URL, json=body, headers=harness.auth(caller_id))).status_code == 200
    limited = await harness.client.post(URL, json=body, headers=harness.auth(caller_id))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    other = await harness.client.post(URL, json=body, headers=harness.auth(uuid4()))
    assert other.status_code == 200

    rows = await harness.app.state.services.runtime.pool.fetch(
        "SELECT caller_id, id_digest, person_id, result FROM status.lookup_audit"
        " WHERE caller_id = $1 ORDER BY id",
        caller_id,
    )
    assert [r["result"] for r in rows] == ["found"] * 10 + ["rate_limited"]
    digest = harness.app.state.services.runtime.vault.id_digest("mainland_id", elder.id_number)
    assert rows[0]["id_digest"] == digest
    assert rows[0]["person_id"] == elder.person_id
    # The audit holds digests, never the number or the name.
    text = str([dict(r) for r in rows])
    assert elder.id_number not in text
    assert "黃老伯" not in text


async def test_needs_an_account(harness: StatusHarness) -> None:
    answer = await harness.client.post(URL, json={"name": "某人", "id_number": "x"})
    assert answer.status_code == 401

"""Health codes: who may see one, its exact shape, paper cards, and inspector verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from shared.events import InspectorBindingData, InspectorUnbound
from tests.integration.status.conftest import StatusHarness
from tests.waiting import eventually

CODE_FIELDS = {
    "person_id",
    "masked_name",
    "colour",
    "reason",
    "reason_text",
    "updated_at",
    "token",
    "token_expires_at",
}
VERIFY_FIELDS = {"person_id", "masked_name", "masked_id", "colour", "reason", "reason_text", "token_kind"}
URL = "/api/status/v1/health-code"
VERIFY = "/api/status/v1/health-codes/verify"


async def test_own_code_has_exactly_the_contract_fields(harness: StatusHarness) -> None:
    person = await harness.register()
    answer = await harness.client.get(URL, headers=harness.auth(person.person_id))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == CODE_FIELDS
    assert (body["person_id"], body["colour"], body["reason"]) == (str(person.person_id), "green", "none")
    assert body["token"].isascii()
    assert body["token"].isalnum()
    expires = datetime.fromisoformat(body["token_expires_at"])
    assert timedelta(seconds=55) <= expires - harness.clock.now() <= timedelta(seconds=61)
    # No recorded status: green since the person registered (the event's time, just now).
    assert abs(datetime.fromisoformat(body["updated_at"]) - datetime.now(UTC)) < timedelta(minutes=1)


async def test_reason_text_follows_the_language(harness: StatusHarness) -> None:
    person = await harness.register()
    await harness.put_status(person.person_id, colour="yellow", reason="close_contact")
    texts = {}
    for header in ["zh-Hant", "zh-CN", "en-GB", "fr"]:
        headers = {**harness.auth(person.person_id), "Accept-Language": header}
        texts[header] = (await harness.client.get(URL, headers=headers)).json()["reason_text"]
    assert texts == {
        "zh-Hant": "密切接觸者",
        "zh-CN": "密切接触者",
        "en-GB": "Close contact",
        "fr": "密切接触者",  # none of ours: Simplified Chinese (issue 16)
    }


async def test_guardian_sees_dependent_and_nobody_else_does(harness: StatusHarness) -> None:
    guardian = await harness.register()
    child = await harness.register("陳小華")
    stranger = await harness.register("林大偉")
    await harness.link_guardian(guardian.person_id, child.person_id)
    params = {"person_id": str(child.person_id)}
    mine = await harness.client.get(URL, params=params, headers=harness.auth(guardian.person_id))
    assert mine.status_code == 200
    assert mine.json()["masked_name"] == child.masked_name
    other = await harness.client.get(URL, params=params, headers=harness.auth(stranger.person_id))
    assert other.status_code == 403
    reverse = await harness.client.get(
        URL, params={"person_id": str(guardian.person_id)}, headers=harness.auth(child.person_id)
    )
    assert reverse.status_code == 403
    assert (await harness.client.get(URL)).status_code == 401


async def test_svg_qr_for_the_page(harness: StatusHarness) -> None:
    person = await harness.register()
    answer = await harness.client.get(
        URL.replace("health-code", "health-code.svg"), headers=harness.auth(person.person_id)
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.text.lstrip().startswith("<svg")


async def inspector(harness: StatusHarness) -> dict[str, str]:
    person = await harness.register("檢測員")
    await harness.bind_inspector(person.person_id)
    return harness.auth(person.person_id)


async def test_only_bound_inspectors_verify(harness: StatusHarness) -> None:
    person = await harness.register()
    token = (await harness.client.get(URL, headers=harness.auth(person.person_id))).json()["token"]
    refused = await harness.client.post(VERIFY, json={"token": token}, headers=harness.auth(person.person_id))
    assert refused.status_code == 403
    allowed = await harness.client.post(VERIFY, json={"token": token}, headers=await inspector(harness))
    assert allowed.status_code == 200


async def test_verify_dynamic_code(harness: StatusHarness) -> None:
    staff = await inspector(harness)
    person = await harness.register()
    await harness.put_status(person.person_id, colour="red", reason="confirmed_case")
    token = (await harness.client.get(URL, headers=harness.auth(person.person_id))).json()["token"]
    answer = await harness.client.post(
        VERIFY, json={"token": token}, headers={**staff, "Accept-Language": "zh-CN"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == VERIFY_FIELDS
    assert body == {
        "person_id": str(person.person_id),
        "masked_name": person.masked_name,
        "masked_id": person.masked_id,
        "colour": "red",
        "reason": "confirmed_case",
        "reason_text": "确诊病例",
        "token_kind": "dynamic",
    }
    audit = await harness.app.state.services.runtime.pool.fetch(
        "SELECT * FROM status.verify_audit ORDER BY id"
    )
    assert [(a["person_id"], a["result"]) for a in audit] == [(person.person_id, "shown")]


async def test_expired_dynamic_code_is_410(harness: StatusHarness) -> None:
    staff = await inspector(harness)
    person = await harness.register()
    token = (await harness.client.get(URL, headers=harness.auth(person.person_id))).json()["token"]
    harness.clock.advance(timedelta(seconds=61))
    answer = await harness.client.post(VERIFY, json={"token": token}, headers=staff)
    assert answer.status_code == 410


@pytest.mark.parametrize("position", [0, 7, 20, 40, -1])
async def test_changed_character_is_422(harness: StatusHarness, position: int) -> None:
    staff = await inspector(harness)
    person = await harness.register()
    token = (await harness.client.get(URL, headers=harness.auth(person.person_id))).json()["token"]
    swapped = "A" if token[position] != "A" else "B"
    forged = token[:position] + swapped + token[position + 1 :] if position != -1 else token[:-1] + swapped
    answer = await harness.client.post(VERIFY, json={"token": forged}, headers=staff)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "token"


async def test_paper_code_pdf_and_revocation(harness: StatusHarness) -> None:
    staff = await inspector(harness)
    guardian = await harness.register()
    elder = await harness.register("黃老伯")
    await harness.link_guardian(guardian.person_id, elder.person_id)
    params = {"person_id": str(elder.person_id)}
    first = await harness.client.get(
        "/api/status/v1/paper-code", params=params, headers=harness.auth(guardian.person_id)
    )
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF")
    stranger = await harness.register("路人甲")
    refused = await harness.client.get(
        "/api/status/v1/paper-code", params=params, headers=harness.auth(stranger.person_id)
    )
    assert refused.status_code == 403

    codes = harness.app.state.services.codes
    old = harness.app.state.services.runtime.signer.paper_code(elder.person_id, 1)
    answer = await harness.client.post(VERIFY, json={"token": old}, headers=staff)
    assert answer.status_code == 200
    assert answer.json()["token_kind"] == "paper"
    assert answer.json()["masked_name"] == elder.masked_name

    renewed = await codes.paper_code(guardian.person_id, elder.person_id)
    assert renewed.serial == 2
    assert (await harness.client.post(VERIFY, json={"token": old}, headers=staff)).status_code == 410
    fresh = await harness.client.post(VERIFY, json={"token": renewed.token}, headers=staff)
    assert fresh.status_code == 200


async def test_unbound_inspector_loses_the_right(harness: StatusHarness) -> None:
    person = await harness.register("檢測員")
    venue = uuid4()
    await harness.bind_inspector(person.person_id, venue)
    event = InspectorUnbound(data=InspectorBindingData(venue_id=venue, person_id=person.person_id))
    await harness.publish_registry(event, venue)
    store = harness.app.state.services.store

    async def unbound() -> bool:
        return not await store.is_inspector(person.person_id)

    await eventually(unbound)
    token = (await harness.client.get(URL, headers=harness.auth(person.person_id))).json()["token"]
    answer = await harness.client.post(VERIFY, json={"token": token}, headers=harness.auth(person.person_id))
    assert answer.status_code == 403

"""PUT /persons/{id}/status: who may set a colour, what is refused, and what follows before the answer."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from shared.colours import read_colours
from tests.integration.status.conftest import StatusHarness

STATUS_FIELDS = {"person_id", "colour", "reason", "reason_text", "version", "valid_until", "updated_at"}


async def test_only_health_authority_may_set(harness: StatusHarness) -> None:
    person = await harness.register()
    url = f"/api/status/v1/persons/{person.person_id}/status"
    body = {"colour": "red", "reason": "confirmed_case"}
    assert (await harness.client.put(url, json=body)).status_code == 401
    plain = await harness.client.put(url, json=body, headers=harness.auth(person.person_id))
    assert plain.status_code == 403
    other_role = await harness.client.put(url, json=body, headers=harness.auth(uuid4(), "epidemiologist"))
    assert other_role.status_code == 403


async def test_red_is_cached_and_announced_before_the_answer(harness: StatusHarness) -> None:
    person = await harness.register()
    answer = await harness.put_status(
        person.person_id, colour="red", reason="confirmed_case", note="lab result"
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) >= STATUS_FIELDS
    assert (body["colour"], body["reason"], body["version"]) == ("red", "confirmed_case", 1)
    assert body["reason_text"] == "Confirmed case"
    # The cache already says red when the answer arrives: no reader can see green after it.
    runtime = harness.app.state.services.runtime
    cached = await read_colours(runtime.redis, runtime.redis_prefix, [person.person_id])
    assert cached[person.person_id].colour == "red"
    assert cached[person.person_id].version == 1
    (event,) = await harness.status_changes(person.person_id, 1)
    assert (event.data.colour, event.data.reason, event.data.version) == ("red", "confirmed_case", 1)


async def test_versions_grow_with_each_change(harness: StatusHarness) -> None:
    person = await harness.register()
    first = await harness.put_status(person.person_id, colour="yellow", reason="close_contact")
    second = await harness.put_status(person.person_id, colour="green", reason="none")
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    code = await harness.client.get("/api/status/v1/health-code", headers=harness.auth(person.person_id))
    assert code.json()["colour"] == "green"
    events = await harness.status_changes(person.person_id, 2)
    assert [e.data.version for e in events] == [1, 2]


async def test_reason_must_be_known_and_fit_the_colour(harness: StatusHarness) -> None:
    person = await harness.register()
    for colour, reason in [
        ("red", "made_up"),
        ("green", "confirmed_case"),
        ("yellow", "none"),
        ("red", "none"),
    ]:
        answer = await harness.put_status(person.person_id, colour=colour, reason=reason)
        assert answer.status_code == 422, (colour, reason)
        assert answer.json()["errors"][0]["field"] == "reason"
    bad_colour = await harness.put_status(person.person_id, colour="blue", reason="none")
    assert bad_colour.status_code == 422
    assert bad_colour.json()["errors"][0]["field"] == "colour"


async def test_valid_until_must_be_in_the_future(harness: StatusHarness) -> None:
    person = await harness.register()
    past = (harness.clock.now() - timedelta(minutes=1)).isoformat()
    answer = await harness.put_status(
        person.person_id, colour="yellow", reason="close_contact", valid_until=past
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "valid_until"


async def test_unknown_person_is_404(harness: StatusHarness) -> None:
    answer = await harness.put_status(uuid4(), colour="red", reason="confirmed_case")
    assert answer.status_code == 404


async def test_history_lists_every_change(harness: StatusHarness) -> None:
    person = await harness.register()
    await harness.put_status(person.person_id, colour="yellow", reason="close_contact")
    await harness.put_status(person.person_id, colour="red", reason="confirmed_case")
    url = f"/api/status/v1/persons/{person.person_id}/history"
    assert (await harness.client.get(url, headers=harness.auth(person.person_id))).status_code == 403
    reader = uuid4()
    answer = await harness.client.get(url, headers=harness.auth(reader, "health_authority"))
    assert answer.status_code == 200
    history = answer.json()["history"]
    assert [(h["colour"], h["version"], h["source"]) for h in history] == [
        ("yellow", 1, "authority"),
        ("red", 2, "authority"),
    ]
    # A staff read of health data is audited: who read whose history.
    pool = harness.app.state.services.runtime.pool
    audited = await pool.fetch("SELECT reader_id, person_id FROM status.history_audit")
    assert [(r["reader_id"], r["person_id"]) for r in audited] == [(reader, person.person_id)]

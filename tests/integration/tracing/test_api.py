"""The tracing HTTP API over the real stack: who may ask, what is refused, and the whole flow."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.tracing.app import create_app
from services.tracing.config import Settings
from shared.auth import AccessTokens
from shared.events import CHECKINS_TOPIC, STATUS_COMMANDS_TOPIC, topic
from shared.keys import load_keys
from shared.settings import InfraSettings
from tests.integration.tracing.kafka_tools import read_topic, send
from tests.integration.tracing.timeline import base_time, checkin, checkout, minutes
from tests.waiting import eventually

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
Issue = Callable[[uuid.UUID, Sequence[str]], dict[str, str]]


@pytest.fixture
def bearer(infra: InfraSettings) -> Issue:
    tokens = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 3600)

    def issue(person: uuid.UUID, roles: Sequence[str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.issue(person, roles)}"}

    return issue


def window(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.json()["errors"]]


async def test_who_may_ask_and_what_is_refused(infra: InfraSettings, serve: Serve, bearer: Issue) -> None:
    t0 = base_time()
    citizen = bearer(uuid.uuid4(), [])
    epi = bearer(uuid.uuid4(), ["epidemiologist"])
    operator = bearer(uuid.uuid4(), ["operator"])
    some = uuid.uuid4()
    body: dict[str, Any] = {"person_id": str(some), **window(t0, t0 + minutes(60))}
    presence = f"/api/tracing/v1/venues/{some}/presence"

    async with serve(create_app(Settings(infra=infra))) as client:
        for method, path, payload in [
            ("GET", presence, None),
            ("POST", "/api/tracing/v1/contact-queries", body),
            ("GET", f"/api/tracing/v1/contact-queries/{some}.csv", None),
            ("POST", f"/api/tracing/v1/contact-queries/{some}/notifications", {"colour": "red"}),
            ("GET", "/api/tracing/v1/me/visits", None),
            ("GET", "/api/tracing/v1/audit", None),
        ]:
            answer = await client.request(method, path, json=payload)
            assert answer.status_code == 401, (path, answer.text)
        for method, path, payload, who in [
            ("GET", presence, None, citizen),
            ("POST", "/api/tracing/v1/contact-queries", body, citizen),
            ("POST", "/api/tracing/v1/contact-queries", body, operator),
            ("GET", f"/api/tracing/v1/contact-queries/{some}.csv", None, citizen),
            (
                "POST",
                f"/api/tracing/v1/contact-queries/{some}/notifications",
                {"colour": "red", "reason": "close_contact"},
                citizen,
            ),
            ("GET", "/api/tracing/v1/audit", None, epi),
            ("PUT", "/api/tracing/v1/settings/notifications", {"paused": True}, epi),
        ]:
            answer = await client.request(method, path, json=payload, headers=who)
            assert answer.status_code == 403, (path, answer.text)

        async def ask(**changes: Any) -> httpx.Response:
            return await client.post("/api/tracing/v1/contact-queries", json={**body, **changes}, headers=epi)

        assert fields(await ask(**window(t0, t0))) == ["to"]
        assert fields(await ask(**window(t0, t0 + timedelta(days=22)))) == ["from"]
        assert fields(await ask(depth=3)) == ["depth"]
        assert fields(await ask(depth=0)) == ["depth"]
        assert fields(await ask(dwell_minutes=0)) == ["dwell_minutes"]
        assert fields(await ask(dwell_minutes=721)) == ["dwell_minutes"]
        assert fields(await ask(min_overlap_minutes=0)) == ["min_overlap_minutes"]
        assert fields(await ask(person_id="nobody")) == ["person_id"]
        assert (await ask(dwell_minutes=720, depth=2)).status_code == 201
        late = await client.get(presence, params=window(t0, t0 - minutes(1)), headers=epi)
        assert fields(late) == ["to"]
        assert (
            await client.get(f"/api/tracing/v1/contact-queries/{some}.csv", headers=epi)
        ).status_code == 404
        assert (await client.get("/api/tracing/v1/contact-queries/nope.csv", headers=epi)).status_code == 404
        missing = await client.post(
            f"/api/tracing/v1/contact-queries/{some}/notifications",
            json={"colour": "red", "reason": "close_contact"},
            headers=epi,
        )
        assert missing.status_code == 404


async def test_query_export_notify_and_audit(infra: InfraSettings, serve: Serve, bearer: Issue) -> None:
    t0 = base_time()
    case, near, far, venue = (uuid.uuid4() for _ in range(4))
    epi_id, operator_id = uuid.uuid4(), uuid.uuid4()
    epi = bearer(epi_id, ["epidemiologist"])
    operator = bearer(operator_id, ["operator"])
    events = [
        checkin(case, venue, t0),
        checkin(near, venue, t0 + minutes(15)),
        checkout(near, venue, t0 + minutes(45)),
        checkin(far, venue, t0 + minutes(90)),
    ]

    async with serve(create_app(Settings(infra=infra))) as client:
        await send(infra, CHECKINS_TOPIC, events, key=venue.bytes)
        presence_url = f"/api/tracing/v1/venues/{venue}/presence"
        span = window(t0 - minutes(60), t0 + minutes(180))

        async def all_there() -> bool:
            answer = await client.get(presence_url, params=span, headers=epi)
            return len(answer.json()["checkins"]) == 3

        await eventually(all_there, timeout_s=30, what="three check-ins in the venue's presence")
        presence = (await client.get(presence_url, params=span, headers=epi)).json()
        mine = (await client.get("/api/tracing/v1/me/visits", params=span, headers=bearer(near, []))).json()

        created = await client.post(
            "/api/tracing/v1/contact-queries",
            json={"person_id": str(case), **window(t0, t0 + minutes(120))},
            headers=epi,
        )
        assert created.status_code == 201, created.text
        result = created.json()
        query_id = result["query_id"]
        csv_answer = await client.get(f"/api/tracing/v1/contact-queries/{query_id}.csv", headers=epi)

        bad_reason = await client.post(
            f"/api/tracing/v1/contact-queries/{query_id}/notifications",
            json={"colour": "red", "reason": "bad_luck"},
            headers=epi,
        )
        bad_colour = await client.post(
            f"/api/tracing/v1/contact-queries/{query_id}/notifications",
            json={"colour": "purple", "reason": "close_contact"},
            headers=epi,
        )
        paused = await client.put(
            "/api/tracing/v1/settings/notifications", json={"paused": True}, headers=operator
        )
        refused = await client.post(
            f"/api/tracing/v1/contact-queries/{query_id}/notifications",
            json={"colour": "yellow", "reason": "close_contact"},
            headers=epi,
        )
        await client.put("/api/tracing/v1/settings/notifications", json={"paused": False}, headers=operator)
        sent = await client.post(
            f"/api/tracing/v1/contact-queries/{query_id}/notifications",
            json={"colour": "yellow", "reason": "close_contact"},
            headers=epi,
        )
        audit = await client.get(
            "/api/tracing/v1/audit",
            params=window(datetime.now(UTC) - minutes(10), datetime.now(UTC) + minutes(1)),
            headers=operator,
        )

    assert presence["venue_id"] == str(venue)
    assert [p["person_id"] for p in presence["checkins"]] == [str(case), str(near), str(far)]
    assert set(presence["checkins"][0]) >= {"person_id", "checked_in_at", "method", "colour_at_checkin"}
    assert [v["venue_id"] for v in mine["visits"]] == [str(venue)]

    assert [v["venue_id"] for v in result["case_visits"]] == [str(venue)]
    assert [
        (c["person_id"], c["venue_id"], c["overlap_minutes"], c["depth"]) for c in result["contacts"]
    ] == [(str(near), str(venue), 30.0, 1)]
    contact = result["contacts"][0]
    assert datetime.fromisoformat(contact["contact_checked_in_at"]) == t0 + minutes(15)
    assert datetime.fromisoformat(contact["case_checked_in_at"]) == t0

    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.content.startswith(b"\xef\xbb\xbf")
    lines = csv_answer.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("person_id,depth,venue_id")
    assert len(lines) == 2
    assert lines[1].startswith(str(near))

    assert fields(bad_reason) == ["reason"]
    assert fields(bad_colour) == ["colour"]
    assert paused.json() == {"paused": True}
    assert refused.status_code == 409
    assert "paused" in refused.json()["detail"]
    assert sent.status_code == 202, sent.text
    assert sent.json()["notified"] == 1

    commands = await read_topic(infra, topic(STATUS_COMMANDS_TOPIC, infra.kafka.namespace), 1)
    assert len(commands) == 1
    command = json.loads(commands[0].value)
    assert commands[0].key == str(near).encode()
    assert command["type"] == "status.set"
    assert command["data"]["person_id"] == str(near)
    assert command["data"]["requested_by"] == str(epi_id)
    assert command["data"]["source_query_id"] == query_id
    assert (command["data"]["colour"], command["data"]["reason"]) == ("yellow", "close_contact")

    entries = audit.json()["entries"]
    by_action = {e["action"]: e for e in entries}
    assert by_action["contact_query"]["count"] == 1
    assert by_action["contact_query"]["query_id"] == query_id
    assert by_action["contact_query"]["actor_id"] == str(epi_id)
    assert by_action["export"]["count"] == 1
    assert by_action["notification"]["count"] == 1
    assert by_action["presence_query"]["actor_id"] == str(epi_id)
    assert all("at" in e for e in entries)


async def test_a_case_is_found_by_identity_number(infra: InfraSettings, serve: Serve, bearer: Issue) -> None:
    from shared.events import REGISTRY_TOPIC, PersonRegistered, PersonRegisteredData
    from shared.pii import Vault
    from tests.people import born_years_ago, mainland_id

    keys = load_keys(infra)
    vault = Vault(keys.pii, keys.pii_hmac)
    number = mainland_id(born_years_ago(40))
    person = uuid.uuid4()
    registered = PersonRegistered(
        data=PersonRegisteredData(
            person_id=person,
            id_kind="mainland_id",
            birth_date=None,
            masked_name="張*明",
            masked_id=number[:4] + "*" * 10 + number[-4:],
            id_digest=vault.id_digest("mainland_id", number),
            name_digest=vault.name_digest("張小明"),
        )
    )
    epi = bearer(uuid.uuid4(), ["epidemiologist"])
    url = "/api/tracing/v1/person-lookups"

    async with serve(create_app(Settings(infra=infra))) as client:
        await send(infra, REGISTRY_TOPIC, [registered], key=person.bytes)

        async def known() -> bool:
            answer = await client.post(url, json={"id_kind": "mainland_id", "id_number": number}, headers=epi)
            return answer.status_code == 200

        await eventually(known, timeout_s=30, what="the person read model")
        found = await client.post(
            url, json={"id_kind": "mainland_id", "id_number": number.lower()}, headers=epi
        )
        other = mainland_id(born_years_ago(30))
        unknown = await client.post(url, json={"id_kind": "mainland_id", "id_number": other}, headers=epi)
        citizen = await client.post(
            url, json={"id_kind": "mainland_id", "id_number": number}, headers=bearer(uuid.uuid4(), [])
        )

    assert found.json() == {
        "person_id": str(person),
        "id_kind": "mainland_id",
        "masked_name": "張*明",
        "masked_id": registered.data.masked_id,
    }
    assert unknown.status_code == 404
    assert citizen.status_code == 403

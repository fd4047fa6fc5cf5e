"""Assisted registration: an inspector registers an elder or a child without a phone on the spot."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from shared.pii import mask_id
from tests.integration.registry.conftest import Account, TopicReader, sign_up
from tests.integration.registry.test_bindings import BINDINGS, make_venue
from tests.unit.registry.idgen import mainland_id

ASSISTED = "/api/registry/v1/assisted-registrations"
ELDER_BORN = date(1948, 3, 9)


def shanghai_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def elder(number: str, **changes: Any) -> dict[str, Any]:
    return {"name": "黃老伯", "id_number": number, "birth_date": ELDER_BORN.isoformat(), **changes}


async def an_inspector(client: httpx.AsyncClient) -> Account:
    admin, inspector = await sign_up(client, "區美華"), await sign_up(client, "李檢查")
    venue = await make_venue(client, admin)
    bound = await client.post(
        BINDINGS, json={"declaration_code": venue["declaration_code"]}, headers=inspector.auth
    )
    assert bound.status_code == 201, bound.text
    return inspector


async def test_an_inspector_registers_an_elder_who_is_announced_and_audited(
    client: httpx.AsyncClient, infra: Any, reader: TopicReader
) -> None:
    inspector = await an_inspector(client)
    number = mainland_id(ELDER_BORN)
    answer = await client.post(ASSISTED, json=elder(number), headers=inspector.auth)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    registered_at = body.pop("registered_at")
    person_id = body["person_id"]
    assert body == {"person_id": person_id, "masked_name": "黃*伯", "masked_id": mask_id(number)}
    events = await reader.wait_for(
        lambda seen: any(e.type == "person.registered" and str(e.data.person_id) == person_id for e in seen)
    )
    [(key, event)] = [(k, e) for k, e in events if str(getattr(e.data, "person_id", "")) == person_id]
    assert key == person_id.encode()
    assert (event.data.birth_date, event.data.masked_name) == (ELDER_BORN, "黃*伯")
    assert all(number.encode() not in raw and "黃老伯".encode() not in raw for raw in reader.raw)
    conn = await asyncpg.connect(infra.postgres_url)
    try:
        row = await conn.fetchrow(
            "SELECT p.phone, p.password_hash, p.birth_date, p.id_cipher, a.registered_by, a.registered_at"
            " FROM registry.people p JOIN registry.assisted_registrations a USING (person_id)"
            " WHERE p.person_id = $1",
            person_id,
        )
    finally:
        await conn.close()
    assert row is not None
    assert (row["phone"], row["password_hash"], row["birth_date"]) == (None, None, ELDER_BORN)
    assert str(row["registered_by"]) == inspector.person_id
    assert row["registered_at"].isoformat() == registered_at.replace("Z", "+00:00")
    assert number.encode() not in bytes(row["id_cipher"])  # encrypted at rest


async def test_the_person_claims_the_record_by_registering_with_that_number(
    client: httpx.AsyncClient,
) -> None:
    inspector = await an_inspector(client)
    number = mainland_id(ELDER_BORN)
    made = await client.post(ASSISTED, json=elder(number), headers=inspector.auth)
    assert made.status_code == 201, made.text
    claimed = await sign_up(client, "黃老伯", number)
    assert claimed.person_id == made.json()["person_id"]
    again = await client.post(ASSISTED, json=elder(number), headers=inspector.auth)
    assert again.status_code == 409, again.text


async def test_a_guardian_links_the_record(client: httpx.AsyncClient) -> None:
    inspector = await an_inspector(client)
    number = mainland_id(ELDER_BORN)
    made = await client.post(ASSISTED, json=elder(number), headers=inspector.auth)
    assert made.status_code == 201, made.text
    son = await sign_up(client, "黃大文")
    linked = await client.post(
        "/api/registry/v1/dependents",
        json={"name": "黃老伯", "id_kind": "mainland_id", "id_number": number, "relation": "parent"},
        headers=son.auth,
    )
    assert linked.status_code == 201, linked.text
    assert (linked.json()["person_id"], linked.json()["state"]) == (made.json()["person_id"], "active")


async def test_the_rules_refuse_naming_the_field(client: httpx.AsyncClient, infra: Any) -> None:
    inspector = await an_inspector(client)
    adult_born = date(shanghai_today().year - 35, 5, 5)
    number = mainland_id(ELDER_BORN)
    wrong_check = number[:-1] + ("1" if number[-1] == "0" else "0")  # never the right one by chance
    cases = [
        (elder(mainland_id(ELDER_BORN), birth_date="1948-03-10"), 422, "birth_date"),
        (elder(wrong_check), 422, "id_number"),
        (elder(mainland_id(ELDER_BORN), name=" "), 422, "name"),
        (elder(mainland_id(ELDER_BORN), birth_date="not a date"), 422, "birth_date"),
        (elder(mainland_id(adult_born), birth_date=adult_born.isoformat()), 403, None),
    ]
    for payload, status, field in cases:
        answer = await client.post(ASSISTED, json=payload, headers=inspector.auth)
        assert answer.status_code == status, (payload, answer.text)
        if field is not None:
            assert field in [e["field"] for e in answer.json()["errors"]], answer.text
    conn = await asyncpg.connect(infra.postgres_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM registry.assisted_registrations") == 0
    finally:
        await conn.close()


async def test_only_an_inspector_may_register_and_a_child_of_sixteen_may_be(
    client: httpx.AsyncClient,
) -> None:
    stranger = await sign_up(client, "路人甲")
    number = mainland_id(ELDER_BORN)
    refused = await client.post(ASSISTED, json=elder(number), headers=stranger.auth)
    assert refused.status_code == 403, refused.text
    assert "inspector" in refused.json()["detail"]
    unauthenticated = await client.post(ASSISTED, json=elder(number))
    assert unauthenticated.status_code == 401
    inspector = await an_inspector(client)
    # Turned 16 on 1 January of this year in Asia/Shanghai: 16 all year (refused before issue 16).
    sixteen = date(shanghai_today().year - 16, 1, 1)
    child = {"name": "陳小華", "id_number": mainland_id(sixteen), "birth_date": sixteen.isoformat()}
    answer = await client.post(ASSISTED, json=child, headers=inspector.auth)
    assert answer.status_code == 201, answer.text

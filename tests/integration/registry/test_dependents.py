"""Family members: added by name and identity, linked not duplicated, several guardians."""

from __future__ import annotations

import asyncpg
import pytest

from shared.pii import mask_id
from tests.integration.registry.conftest import sign_up
from tests.unit.registry.idgen import child_id

DEPENDENTS = "/api/registry/v1/dependents"


def child(number: str, **changes: str) -> dict[str, str]:
    return {"name": "張小明", "id_kind": "mainland_id", "id_number": number, "relation": "child", **changes}


async def test_add_and_list_a_dependent(client):
    guardian = await sign_up(client)
    number = child_id()
    answer = await client.post(DEPENDENTS, json=child(number), headers=guardian.auth)
    assert answer.status_code == 201
    body = answer.json()
    assert body["masked_name"] == "張*明"
    assert body["masked_id"] == mask_id(number)
    assert body["relation"] == "child"
    listed = await client.get(DEPENDENTS, headers=guardian.auth)
    assert listed.status_code == 200
    assert [d["person_id"] for d in listed.json()["dependents"]] == [body["person_id"]]


async def test_two_guardians_share_one_person(client, infra):
    mother, father = await sign_up(client, "李美麗"), await sign_up(client, "張大明")
    number = child_id()
    first = await client.post(DEPENDENTS, json=child(number), headers=mother.auth)
    second = await client.post(DEPENDENTS, json=child(number), headers=father.auth)
    assert first.status_code == 201
    assert second.status_code == 201
    assert first.json()["person_id"] == second.json()["person_id"]
    conn = await asyncpg.connect(infra.postgres_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM registry.people") == 3
        assert await conn.fetchval("SELECT count(*) FROM registry.guardianships") == 2
    finally:
        await conn.close()


async def test_an_existing_account_is_linked(client):
    guardian = await sign_up(client, "張大明")
    grandma = await sign_up(client, "王老太")
    answer = await client.post(
        DEPENDENTS,
        json=child(grandma.id_number, name="王老太", relation="grandparent"),
        headers=guardian.auth,
    )
    assert answer.status_code == 201
    assert answer.json()["person_id"] == grandma.person_id


async def test_adding_the_same_dependent_again_changes_nothing(client):
    guardian = await sign_up(client)
    number = child_id()
    first = await client.post(DEPENDENTS, json=child(number), headers=guardian.auth)
    again = await client.post(DEPENDENTS, json=child(number), headers=guardian.auth)
    assert again.status_code == 200
    assert again.json()["person_id"] == first.json()["person_id"]
    assert len((await client.get(DEPENDENTS, headers=guardian.auth)).json()["dependents"]) == 1


@pytest.mark.parametrize(
    ("relation", "kept"), [("Parent", "parent"), ("外婆", "外婆"), ("godchild", "godchild")]
)
async def test_relations_from_the_list_or_short_text(client, relation, kept):
    guardian = await sign_up(client)
    answer = await client.post(DEPENDENTS, json=child(child_id(), relation=relation), headers=guardian.auth)
    assert answer.status_code == 201
    assert answer.json()["relation"] == kept


async def test_invalid_dependents_are_refused(client):
    guardian = await sign_up(client)
    long_relation = await client.post(
        DEPENDENTS, json=child(child_id(), relation="x" * 21), headers=guardian.auth
    )
    assert long_relation.status_code == 422
    assert long_relation.json()["errors"][0]["field"] == "relation"
    bad_number = await client.post(DEPENDENTS, json=child("440305199001011230"), headers=guardian.auth)
    assert bad_number.status_code == 422
    assert bad_number.json()["errors"][0]["field"] == "id_number"
    yourself = await client.post(
        DEPENDENTS, json=child(guardian.id_number, name=guardian.name), headers=guardian.auth
    )
    assert yourself.status_code == 409
    assert (await client.post(DEPENDENTS, json=child(child_id()))).status_code == 401


async def test_a_different_name_for_a_known_identity_is_409(client):
    mother, father = await sign_up(client, "李美麗"), await sign_up(client, "張大明")
    number = child_id()
    await client.post(DEPENDENTS, json=child(number), headers=mother.auth)
    other = await client.post(DEPENDENTS, json=child(number, name="陳小華"), headers=father.auth)
    assert other.status_code == 409


async def test_a_dependent_can_later_open_an_account(client):
    guardian = await sign_up(client)
    number = child_id()
    added = (await client.post(DEPENDENTS, json=child(number), headers=guardian.auth)).json()
    own = await sign_up(client, "張小明", number)
    assert own.person_id == added["person_id"]

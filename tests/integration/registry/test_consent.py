"""Family links need consent (issue 17).

An adult with an account of their own gets a pending request that only they can accept; a child
or an elder without an account is put under guardianship at once; anyone else is refused. Every
person sees and can end the links on them, and a guardian can unlink.
"""

from __future__ import annotations

import asyncpg

from shared.events import REGISTRY_TOPIC
from tests.integration.registry.conftest import Account, sign_up
from tests.people import born_years_ago, mainland_id

DEPENDENTS = "/api/registry/v1/dependents"
GUARDIANS = "/api/registry/v1/guardians"
POWERS = ["read_health_code", "print_paper_code", "check_in"]


def aged(years: int) -> str:
    """Ages here are far from the bounds, so a birthday on 15 January changes no answer."""
    return mainland_id(born_years_ago(years))


def member(account_or_number: Account | str, name: str = "張小明", relation: str = "child") -> dict[str, str]:
    number = account_or_number if isinstance(account_or_number, str) else account_or_number.id_number
    return {"name": name, "id_kind": "mainland_id", "id_number": number, "relation": relation}


async def test_an_adult_with_an_account_gets_a_request_only_they_can_accept(client, reader):
    guardian = await sign_up(client, "張大明")
    adult = await sign_up(client, "王老太")
    stranger = await sign_up(client, "李路人")

    asked = await client.post(DEPENDENTS, json=member(adult, "王老太", "parent"), headers=guardian.auth)
    assert asked.status_code == 201, asked.text
    assert asked.json()["state"] == "pending"
    assert asked.json()["person_id"] == adult.person_id
    again = await client.post(DEPENDENTS, json=member(adult, "王老太", "parent"), headers=guardian.auth)
    assert (again.status_code, again.json()["state"]) == (200, "pending")
    listed = (await client.get(DEPENDENTS, headers=guardian.auth)).json()["dependents"]
    assert [(d["person_id"], d["state"]) for d in listed] == [(adult.person_id, "pending")]

    # Nobody but the person can accept: not the guardian, not a stranger.
    for other in (guardian, stranger):
        refused = await client.post(f"{GUARDIANS}/{guardian.person_id}/accept", headers=other.auth)
        assert refused.status_code == 404, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (await client.get(GUARDIANS, headers=other.auth)).json()["guardians"] == []

    mine = (await client.get(GUARDIANS, headers=adult.auth)).json()["guardians"]
    assert len(mine) == 1
    request = mine[0]
    assert request["guardian_id"] == guardian.person_id
    assert request["masked_name"] == "張*明"
    assert (request["state"], request["relation"]) == ("pending", "parent")
    assert request["can"] == POWERS
    assert "id_number" not in request
    assert "張大明" not in str(request)

    accepted = await client.post(f"{GUARDIANS}/{guardian.person_id}/accept", headers=adult.auth)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "active"
    listed = (await client.get(DEPENDENTS, headers=guardian.auth)).json()["dependents"]
    assert [(d["person_id"], d["state"]) for d in listed] == [(adult.person_id, "active")]

    events = await reader.wait_for(lambda es: any(e.type == "guardian.linked" for e in es))
    linked = [e for _, e in events if e.type == "guardian.linked"]
    assert [(str(e.data.guardian_id), str(e.data.person_id)) for e in linked] == [
        (guardian.person_id, adult.person_id)
    ]


async def test_a_declined_request_leaves_nothing(client):
    guardian, adult = await sign_up(client, "張大明"), await sign_up(client, "王老太")
    await client.post(DEPENDENTS, json=member(adult, "王老太"), headers=guardian.auth)
    declined = await client.delete(f"{GUARDIANS}/{guardian.person_id}", headers=adult.auth)
    assert declined.status_code == 204
    assert (await client.get(DEPENDENTS, headers=guardian.auth)).json()["dependents"] == []
    assert (await client.get(GUARDIANS, headers=adult.auth)).json()["guardians"] == []
    late = await client.post(f"{GUARDIANS}/{guardian.person_id}/accept", headers=adult.auth)
    assert late.status_code == 404


async def test_children_and_elders_without_accounts_are_put_under_guardianship(client):
    guardian = await sign_up(client, "張大明")
    for years, relation in ((7, "child"), (75, "grandparent")):
        added = await client.post(
            DEPENDENTS, json=member(aged(years), relation=relation), headers=guardian.auth
        )
        assert added.status_code == 201, added.text
        assert added.json()["state"] == "active"


async def test_an_adult_without_an_account_is_refused(client):
    guardian = await sign_up(client, "張大明")
    refused = await client.post(DEPENDENTS, json=member(aged(35), relation="spouse"), headers=guardian.auth)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(DEPENDENTS, headers=guardian.auth)).json()["dependents"] == []


async def test_a_document_without_a_birth_date_needs_the_persons_own_account(client):
    guardian = await sign_up(client, "張大明")
    body = {"name": "Tom Lee", "id_kind": "passport", "id_number": "E12345678", "relation": "child"}
    refused = await client.post(DEPENDENTS, json=body, headers=guardian.auth)
    assert refused.status_code == 403, refused.text


async def test_a_child_who_registers_takes_over_and_can_revoke(client, reader):
    guardian = await sign_up(client, "張大明")
    number = aged(15)
    added = (await client.post(DEPENDENTS, json=member(number), headers=guardian.auth)).json()
    grown = await sign_up(client, "張小明", number)
    assert grown.person_id == added["person_id"]

    mine = (await client.get(GUARDIANS, headers=grown.auth)).json()["guardians"]
    assert [(g["guardian_id"], g["state"]) for g in mine] == [(guardian.person_id, "active")]
    revoked = await client.delete(f"{GUARDIANS}/{guardian.person_id}", headers=grown.auth)
    assert revoked.status_code == 204
    assert (await client.get(DEPENDENTS, headers=guardian.auth)).json()["dependents"] == []
    assert (await client.delete(f"{GUARDIANS}/{guardian.person_id}", headers=grown.auth)).status_code == 404

    events = await reader.wait_for(lambda es: any(e.type == "guardian.unlinked" for e in es))
    (unlinked,) = [e for _, e in events if e.type == "guardian.unlinked"]
    assert (str(unlinked.data.guardian_id), str(unlinked.data.person_id)) == (
        guardian.person_id,
        grown.person_id,
    )
    assert unlinked.data.ended_by == "person"
    keys = {e.event_id: k for k, e in events}
    assert keys[unlinked.event_id] == grown.person_id.encode()


async def test_a_guardian_can_unlink(client, reader):
    guardian = await sign_up(client, "張大明")
    child = (await client.post(DEPENDENTS, json=member(aged(6)), headers=guardian.auth)).json()
    gone = await client.delete(f"{DEPENDENTS}/{child['person_id']}", headers=guardian.auth)
    assert gone.status_code == 204
    assert (await client.get(DEPENDENTS, headers=guardian.auth)).json()["dependents"] == []
    assert (
        await client.delete(f"{DEPENDENTS}/{child['person_id']}", headers=guardian.auth)
    ).status_code == 404

    events = await reader.wait_for(lambda es: any(e.type == "guardian.unlinked" for e in es))
    (unlinked,) = [e for _, e in events if e.type == "guardian.unlinked"]
    assert unlinked.data.ended_by == "guardian"


async def test_a_guardian_can_withdraw_a_request_and_nothing_is_announced(client, reader):
    guardian, adult = await sign_up(client, "張大明"), await sign_up(client, "王老太")
    await client.post(DEPENDENTS, json=member(adult, "王老太"), headers=guardian.auth)
    withdrawn = await client.delete(f"{DEPENDENTS}/{adult.person_id}", headers=guardian.auth)
    assert withdrawn.status_code == 204
    assert (await client.get(GUARDIANS, headers=adult.auth)).json()["guardians"] == []
    # A later change of the same key shows that nothing about the withdrawn request went out.
    child = (await client.post(DEPENDENTS, json=member(aged(5)), headers=guardian.auth)).json()
    events = await reader.wait_for(lambda es: any(e.type == "guardian.linked" for e in es))
    # Delivery is at least once (the outbox relay may send a row again): one event, once.
    linked = {e.event_id: e for _, e in events if e.type in ("guardian.linked", "guardian.unlinked")}
    assert [(e.type, str(e.data.person_id)) for e in linked.values()] == [
        ("guardian.linked", child["person_id"])
    ]


async def test_the_new_routes_need_an_account(client):
    some = "0192f0c8-0000-7000-8000-000000000001"
    for method, path in (
        ("GET", GUARDIANS),
        ("POST", f"{GUARDIANS}/{some}/accept"),
        ("DELETE", f"{GUARDIANS}/{some}"),
        ("DELETE", f"{DEPENDENTS}/{some}"),
    ):
        assert (await client.request(method, path)).status_code == 401, (method, path)


async def test_an_unlink_never_overtakes_a_link_left_unsent(infra, serve, reader):
    """A link whose publish failed (its outbox row still unsent) goes out before the unlink of the
    same person, so no consumer applies the link last and undoes the unlink."""
    from services.registry.app import create_app
    from services.registry.config import Settings
    from shared.events import GuardianLinked, GuardianLinkedData, encode

    async with serve(create_app(Settings(infra=infra, outbox_relay_interval_s=3600))) as client:
        guardian = await sign_up(client, "張大明")
        child = (await client.post(DEPENDENTS, json=member(aged(6)), headers=guardian.auth)).json()
        left = GuardianLinked(
            data=GuardianLinkedData(
                guardian_id=guardian.person_id, person_id=child["person_id"], relation="child"
            )
        )
        conn = await asyncpg.connect(infra.postgres_url)
        try:
            await conn.execute(
                "INSERT INTO registry.outbox (topic, key, payload) VALUES ($1, $2, $3)",
                REGISTRY_TOPIC,
                child["person_id"].encode(),
                encode(left).decode(),
            )
            gone = await client.delete(f"{DEPENDENTS}/{child['person_id']}", headers=guardian.auth)
            assert gone.status_code == 204
            assert await conn.fetchval("SELECT count(*) FROM registry.outbox WHERE sent_at IS NULL") == 0
        finally:
            await conn.close()
    events = await reader.wait_for(lambda es: any(e.type == "guardian.unlinked" for e in es))
    mine = [e.event_id for _, e in events if e.type in ("guardian.linked", "guardian.unlinked")]
    assert mine.index(left.event_id) < len(mine) - 1
    assert [e.type for _, e in events if e.event_id == mine[-1]] == ["guardian.unlinked"]

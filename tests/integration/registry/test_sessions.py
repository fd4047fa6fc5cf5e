"""Refresh tokens (issue 16): 30-day sign-ins, rotated on every use, a reused token revokes its
family, logout ends this device and "sign out everywhere" every device. Real Postgres."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import jwt

from services.registry.app import create_app
from services.registry.config import Settings
from services.registry.sessions import digest
from shared.keys import load_keys
from shared.settings import InfraSettings
from tests.integration.registry.conftest import Account, sign_up

SESSIONS = "/api/registry/v1/sessions"
REFRESH = f"{SESSIONS}/refresh"
THIRTY_DAYS_S = 30 * 24 * 3600
PROBLEM = "https://venuecode.example/problems/unauthorized"
REFUSED = {
    "type": PROBLEM,
    "title": "Refresh token refused",
    "status": 401,
    "detail": "The refresh token is unknown, expired or signed out; sign in again.",
}
REUSED = {
    "type": PROBLEM,
    "title": "Refresh token reused",
    "status": 401,
    "detail": "This refresh token was used before, so it may have been copied: this sign-in has been"
    " ended on every device that shared it. Sign in again.",
}


async def sign_in(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    answer = await client.post(SESSIONS, json={"id_number": account.id_number, "password": "correct horse"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": token})


def set_cookies(answer: httpx.Response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c.lower() for c in answer.headers.get_list("set-cookie")}


def assert_session(body: dict[str, Any], account: Account, infra: InfraSettings) -> None:
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "person_id",
        "roles",
        "refresh_token",
        "refresh_expires_in",
    }
    assert body["token_type"] == "Bearer"
    assert body["person_id"] == account.person_id
    assert body["expires_in"] == infra.access_token_ttl_s
    # Counted from the server's clock when it answered: at most a few seconds short.
    assert THIRTY_DAYS_S - 5 <= body["refresh_expires_in"] <= THIRTY_DAYS_S
    claims = jwt.decode(
        body["access_token"], load_keys(infra).jwt.public, algorithms=["EdDSA"], audience=infra.jwt_audience
    )
    assert claims["sub"] == account.person_id
    assert len(body["refresh_token"]) == 43  # 256 random bits, URL-safe base64


async def test_sign_in_hands_out_a_30_day_refresh_token_in_a_strict_cookie(client, infra):
    account = await sign_up(client)
    answer = await client.post(SESSIONS, json={"id_number": account.id_number, "password": "correct horse"})
    body = answer.json()
    assert_session(body, account, infra)
    cookies = set_cookies(answer)
    refresh_cookie = cookies["vc_refresh"]
    assert body["refresh_token"].lower() in refresh_cookie
    assert "httponly" in refresh_cookie
    assert "samesite=strict" in refresh_cookie
    assert "path=/api/registry/v1/sessions" in refresh_cookie
    assert f"max-age={THIRTY_DAYS_S}" in refresh_cookie
    # The marker pages read holds no secret; the CSRF token outlives the access cookie.
    assert cookies["vc_stay"].startswith("vc_stay=1;")
    assert "httponly" not in cookies["vc_stay"]
    assert f"max-age={THIRTY_DAYS_S}" in cookies["vc_csrf"]
    assert f"max-age={infra.access_token_ttl_s}" in cookies["vc_session"]


async def test_only_a_digest_of_the_token_is_stored(client, infra):
    account = await sign_up(client)
    body = await sign_in(client, account)
    conn = await asyncpg.connect(infra.postgres_url)
    try:
        rows = await conn.fetch(
            "SELECT t.token_digest, f.person_id FROM registry.refresh_tokens t"
            " JOIN registry.session_families f USING (family_id)"
        )
        dump = str(await conn.fetch("SELECT * FROM registry.refresh_tokens"))
    finally:
        await conn.close()
    assert body["refresh_token"] not in dump
    mine = [bytes(r["token_digest"]) for r in rows if str(r["person_id"]) == account.person_id]
    assert digest(body["refresh_token"]) in mine


async def test_a_refresh_rotates_the_token_and_the_old_one_is_spent(client, infra):
    account = await sign_up(client)
    first = await sign_in(client, account)
    client.cookies.clear()
    answer = await refresh(client, first["refresh_token"])
    assert answer.status_code == 200, answer.text
    second = answer.json()
    assert_session(second, account, infra)
    assert second["refresh_token"] != first["refresh_token"]
    # The new access token works on the API.
    listed = await client.get(
        "/api/registry/v1/dependents", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert listed.status_code == 200
    third = await refresh(client, second["refresh_token"])
    assert third.status_code == 200
    assert third.json()["refresh_token"] not in {first["refresh_token"], second["refresh_token"]}


async def test_reusing_a_rotated_token_revokes_its_family_and_no_other(client):
    account = await sign_up(client)
    phone = await sign_in(client, account)
    laptop = await sign_in(client, account)
    client.cookies.clear()
    rotated = (await refresh(client, phone["refresh_token"])).json()

    reused = await refresh(client, phone["refresh_token"])
    assert reused.status_code == 401
    assert reused.json() == REUSED
    assert reused.headers["content-type"] == "application/problem+json"
    # The legitimate holder's newest token is gone with its family...
    newest = await refresh(client, rotated["refresh_token"])
    assert newest.status_code == 401
    assert newest.json() == REFUSED
    # ...and presenting the spent one again still refuses (no second revocation to report).
    again = await refresh(client, phone["refresh_token"])
    assert again.json() == REFUSED
    # Another device's sign-in is another family: untouched.
    assert (await refresh(client, laptop["refresh_token"])).status_code == 200


async def test_two_refreshes_of_one_token_at_once_are_one_rotation_and_one_reuse(client):
    account = await sign_up(client)
    signed = await sign_in(client, account)
    client.cookies.clear()
    answers = await asyncio.gather(*(refresh(client, signed["refresh_token"]) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [200, 401]
    winner = next(a for a in answers if a.status_code == 200).json()
    assert next(a for a in answers if a.status_code == 401).json() == REUSED
    # The reuse revoked the family, the token the winner got included.
    assert (await refresh(client, winner["refresh_token"])).json() == REFUSED


async def test_unknown_expired_and_malformed_tokens(client, infra):
    account = await sign_up(client)
    signed = await sign_in(client, account)
    client.cookies.clear()
    unknown = await refresh(client, "x" * 43)
    assert unknown.status_code == 401
    assert unknown.json() == REFUSED
    # A refused refresh clears the page cookies, so pages stop trying.
    cleared = set_cookies(unknown)
    assert {"vc_refresh", "vc_stay", "vc_session", "vc_csrf"} <= set(cleared)
    assert all("max-age=0" in c for c in cleared.values())
    none = await client.post(REFRESH, json={})
    assert none.json() == REFUSED

    too_long = await refresh(client, "x" * 129)
    assert too_long.status_code == 422
    assert [e["field"] for e in too_long.json()["errors"]] == ["refresh_token"]
    at_bound = await refresh(client, "x" * 128)
    assert at_bound.json() == REFUSED

    conn = await asyncpg.connect(infra.postgres_url)
    try:
        await conn.execute(
            "UPDATE registry.refresh_tokens SET issued_at = now() - interval '31 days',"
            " expires_at = now() - interval '1 second' WHERE token_digest = $1",
            digest(signed["refresh_token"]),
        )
    finally:
        await conn.close()
    expired = await refresh(client, signed["refresh_token"])
    assert expired.json() == REFUSED


async def test_a_page_refreshes_with_its_cookie_and_keeps_its_csrf_token(client, infra):
    account = await sign_up(client)
    await sign_in(client, account)  # the client keeps the cookies, as a browser does
    csrf = client.cookies.get("vc_csrf")
    old_refresh = client.cookies.get("vc_refresh")
    answer = await client.post(REFRESH, json={})
    assert answer.status_code == 200, answer.text
    assert_session(answer.json(), account, infra)
    assert client.cookies.get("vc_refresh") == answer.json()["refresh_token"] != old_refresh
    assert client.cookies.get("vc_csrf") == csrf
    assert client.cookies.get("vc_session") == answer.json()["access_token"]


async def test_a_refresh_reads_the_roles_held_now(client, infra, make_account):
    from services.registry.commands import grant_role

    account = await make_account()
    signed = await sign_in(client, account)
    client.cookies.clear()
    assert signed["roles"] == []
    await grant_role(infra, account.id_number, "epidemiologist")
    renewed = (await refresh(client, signed["refresh_token"])).json()
    assert renewed["roles"] == ["epidemiologist"]


async def test_logout_ends_this_device_only(client):
    account = await sign_up(client)
    other = await sign_in(client, account)
    client.cookies.clear()
    await sign_in(client, account)  # this device: the cookies
    mine = client.cookies.get("vc_refresh")
    out = await client.post(f"{SESSIONS}/logout")
    assert out.status_code == 204
    assert all("max-age=0" in c for c in set_cookies(out).values())
    assert (await refresh(client, mine)).json() == REFUSED
    assert (await refresh(client, other["refresh_token"])).status_code == 200
    # An API client names its token in the body.
    api_client = await sign_in(client, account)
    client.cookies.clear()
    assert (
        await client.post(f"{SESSIONS}/logout", json={"refresh_token": api_client["refresh_token"]})
    ).status_code == 204
    assert (await refresh(client, api_client["refresh_token"])).json() == REFUSED


async def test_sign_out_everywhere_revokes_every_device(client, make_account):
    account = await sign_up(client)
    stranger = await make_account("李四")
    devices = [await sign_in(client, account) for _ in range(3)]
    theirs = await sign_in(client, stranger)
    client.cookies.clear()
    spent = (await refresh(client, devices[0]["refresh_token"])).json()
    client.cookies.clear()  # this test authenticates with the bearer header

    unauthenticated = await client.post(f"{SESSIONS}/logout-everywhere")
    assert unauthenticated.status_code == 401
    answer = await client.post(
        f"{SESSIONS}/logout-everywhere", headers={"Authorization": f"Bearer {spent['access_token']}"}
    )
    assert answer.status_code == 200
    # The three devices, and the sign-in sign_up made.
    assert answer.json() == {"revoked_sessions": 4}
    assert all("max-age=0" in c for c in set_cookies(answer).values())
    for token in [spent["refresh_token"], devices[1]["refresh_token"], devices[2]["refresh_token"]]:
        assert (await refresh(client, token)).json() == REFUSED
    assert (await refresh(client, theirs["refresh_token"])).status_code == 200
    again = await client.post(
        f"{SESSIONS}/logout-everywhere", headers={"Authorization": f"Bearer {spent['access_token']}"}
    )
    assert again.json() == {"revoked_sessions": 0}


async def test_ended_sign_ins_are_pruned_after_a_day(infra, serve):
    app = create_app(Settings(infra=infra))
    async with serve(app) as client:
        account = await sign_up(client)
        live = await sign_in(client, account)
        ended = await sign_in(client, account)
        expired = await sign_in(client, account)
        client.cookies.clear()
        await client.post(f"{SESSIONS}/logout", json={"refresh_token": ended["refresh_token"]})
        conn = await asyncpg.connect(infra.postgres_url)
        try:
            await conn.execute(
                "UPDATE registry.session_families SET revoked_at = now() - interval '25 hours'"
                " WHERE revoked_at IS NOT NULL"
            )
            await conn.execute(
                "UPDATE registry.refresh_tokens SET issued_at = now() - interval '32 days',"
                " expires_at = now() - interval '25 hours' WHERE token_digest = $1",
                digest(expired["refresh_token"]),
            )
            deleted = await app.state.services.sessions.forget_ended()
            left = await conn.fetch("SELECT token_digest FROM registry.refresh_tokens")
        finally:
            await conn.close()
        # Two families (the one signed out a day ago, its token going with it, and the one whose
        # only token expired a day ago) and that expired token.
        assert deleted == 3
        kept = {bytes(r["token_digest"]) for r in left}
        assert digest(live["refresh_token"]) in kept
        assert not {digest(ended["refresh_token"]), digest(expired["refresh_token"])} & kept
        assert len(kept) == 2  # and the sign-in sign_up made
        assert (await refresh(client, live["refresh_token"])).status_code == 200

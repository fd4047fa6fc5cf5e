"""Accounts and sessions over HTTP against real Postgres, Redis and Kafka."""

from __future__ import annotations

import asyncpg
import jwt
import pytest

from shared.keys import load_keys
from shared.pii import Vault, mask_id
from tests.integration.registry.conftest import sign_up
from tests.unit.registry.idgen import mainland_id, passport
from tests.waiting import clear_of_window_edge

ACCOUNTS = "/api/registry/v1/accounts"
SESSIONS = "/api/registry/v1/sessions"


def account_body(number: str, **changes: str) -> dict[str, str]:
    body = {
        "name": " 張三明 ",
        "id_kind": "mainland_id",
        "id_number": number,
        "phone": "+8613800138000",
        "password": "correct horse",
    }
    return {**body, **changes}


async def test_registration_answers_masked_identity(client):
    number = mainland_id()
    answer = await client.post(ACCOUNTS, json=account_body(number))
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) >= {"person_id", "masked_name", "masked_id"}
    assert body["masked_name"] == "張*明"
    assert body["masked_id"] == mask_id(number)
    assert body["masked_id"][:4] == number[:4]
    assert body["masked_id"][-4:] == number[-4:]


@pytest.mark.parametrize(
    ("kind", "number"),
    [
        ("mainland_id", "44030519900101123"),  # 17 characters
        ("mainland_id", "990305199001011234"),  # no such province
        ("mainland_id", "440305199002301234"),  # 30 February
        ("hk_macao_permit", "X12345678"),
        ("taiwan_permit", "1234567"),
        ("passport", "AB"),
        ("foreign_permanent_resident", "944156198506150128"),  # check character
        ("foreign_permanent_resident", "USA998506150123"),  # no such province
    ],
)
async def test_bad_identity_numbers_are_422_naming_the_field(client, kind, number):
    answer = await client.post(ACCOUNTS, json=account_body(number, id_kind=kind))
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    errors = answer.json()["errors"]
    assert errors[0]["field"] == "id_number"
    assert errors[0]["message"]


@pytest.mark.parametrize(
    ("kind", "number"),
    [
        ("mainland_id", "830000199001010012"),  # Taiwan residents' residence permit
        ("foreign_permanent_resident", "944156198506150127"),  # the card of 2023
        ("foreign_permanent_resident", "usa448506150123"),  # the card of 2004/2017
    ],
)
async def test_taiwan_residence_permits_and_foreign_permanent_residents_register(client, kind, number):
    answer = await client.post(ACCOUNTS, json=account_body(number, id_kind=kind))
    assert answer.status_code == 201, answer.text
    assert answer.json()["masked_id"] == mask_id(number)
    signed_in = await client.post(SESSIONS, json={"id_number": number.upper(), "password": "correct horse"})
    assert signed_in.status_code == 200, signed_in.text


async def test_wrong_check_digit_is_422(client):
    number = mainland_id()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    answer = await client.post(ACCOUNTS, json=account_body(wrong))
    assert answer.status_code == 422
    assert "check" in answer.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "   "), ("name", "名" * 65), ("phone", "12ab"), ("password", "short"), ("password", "x" * 129)],
)
async def test_other_fields_are_checked(client, field, value):
    answer = await client.post(ACCOUNTS, json=account_body(mainland_id(), **{field: value}))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == field


async def test_unknown_id_kind_is_422(client):
    answer = await client.post(ACCOUNTS, json=account_body(mainland_id(), id_kind="library_card"))
    assert answer.status_code == 422


async def test_identity_registered_twice_is_409_even_in_other_spelling(client):
    number = mainland_id()
    assert (await client.post(ACCOUNTS, json=account_body(number))).status_code == 201
    spelled = f"{number[:6]} {number[6:14]}-{number[14:].lower()}"
    again = await client.post(ACCOUNTS, json=account_body(spelled, name="李四"))
    assert again.status_code == 409


async def test_numbers_are_stored_encrypted_and_passwords_as_argon2id(client, infra):
    account = await sign_up(client)
    conn = await asyncpg.connect(infra.postgres_url)
    try:
        row = await conn.fetchrow(
            "SELECT * FROM registry.people WHERE person_id = $1::uuid", account.person_id
        )
        dump = repr(dict(row))
    finally:
        await conn.close()
    assert account.id_number not in dump
    assert account.id_number.encode() not in bytes(row["id_cipher"])
    keys = load_keys(infra)
    vault = Vault(keys.pii, keys.pii_hmac)
    assert vault.decrypt(bytes(row["id_cipher"])) == account.id_number
    assert row["id_digest"] == vault.id_digest("mainland_id", account.id_number)
    assert row["password_hash"].startswith("$argon2id$")


async def test_sign_in_answers_token_and_sets_cookies(client, infra):
    account = await sign_up(client)
    answer = await client.post(SESSIONS, json={"id_number": account.id_number, "password": "correct horse"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["person_id"] == account.person_id
    assert body["roles"] == []
    assert body["expires_in"] == infra.access_token_ttl_s
    claims = jwt.decode(
        body["access_token"], load_keys(infra).jwt.public, algorithms=["EdDSA"], audience=infra.jwt_audience
    )
    assert claims["sub"] == account.person_id
    assert claims["roles"] == []
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("vc_session="))
    csrf = next(c for c in cookies if c.startswith("vc_csrf="))
    assert "httponly" in session.lower()
    assert "samesite=lax" in session.lower()
    assert "path=/" in session.lower()
    assert f"max-age={infra.access_token_ttl_s}" in session.lower()
    assert "secure" not in session.lower()  # not production
    assert "httponly" not in csrf.lower()
    assert "samesite=lax" in csrf.lower()
    assert body["access_token"] in session


async def test_cookie_session_works_with_csrf_and_logout_clears_it(client):
    account = await sign_up(client)
    signed = await client.post(SESSIONS, json={"id_number": account.id_number, "password": "correct horse"})
    assert signed.status_code == 200
    # The client now holds the cookies: a GET needs nothing else.
    assert (await client.get("/api/registry/v1/dependents")).status_code == 200
    csrf = client.cookies.get("vc_csrf")
    refused = await client.post("/api/registry/v1/venues", json={"region_code": "440305", "name": "某某超市"})
    assert refused.status_code == 403
    allowed = await client.post(
        "/api/registry/v1/venues",
        json={"region_code": "440305", "name": "某某超市"},
        headers={"X-CSRF-Token": csrf},
    )
    assert allowed.status_code == 201
    out = await client.post(f"{SESSIONS}/logout")
    assert out.status_code == 204
    cleared = out.headers.get_list("set-cookie")
    assert any(c.startswith("vc_session=") and "max-age=0" in c.lower() for c in cleared)
    assert any(c.startswith("vc_csrf=") and "max-age=0" in c.lower() for c in cleared)
    assert (await client.get("/api/registry/v1/dependents")).status_code == 401


async def test_wrong_pair_is_401(client):
    account = await sign_up(client)
    wrong = await client.post(SESSIONS, json={"id_number": account.id_number, "password": "wrong horse"})
    assert wrong.status_code == 401
    unknown = await client.post(SESSIONS, json={"id_number": mainland_id(), "password": "correct horse"})
    assert unknown.status_code == 401


async def test_passport_holder_signs_in_without_saying_the_kind(client):
    number = passport()
    created = await client.post(ACCOUNTS, json=account_body(number, id_kind="passport", name="John Smith"))
    assert created.status_code == 201
    signed = await client.post(SESSIONS, json={"id_number": number.lower(), "password": "correct horse"})
    assert signed.status_code == 200
    assert signed.json()["person_id"] == created.json()["person_id"]


async def test_five_wrong_passwords_in_a_minute_lock_the_identity(client):
    account = await sign_up(client)
    await clear_of_window_edge(60)
    for _ in range(5):
        wrong = await client.post(SESSIONS, json={"id_number": account.id_number, "password": "wrong horse"})
        assert wrong.status_code == 401
    locked = await client.post(SESSIONS, json={"id_number": account.id_number, "password": "correct horse"})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1
    # Another identity is not affected.
    other = await sign_up(client, "李四")
    assert (
        await client.post(SESSIONS, json={"id_number": other.id_number, "password": "correct horse"})
    ).status_code == 200


async def test_right_passwords_do_not_count_towards_the_lock(client):
    account = await sign_up(client)
    for _ in range(7):
        right = await client.post(
            SESSIONS, json={"id_number": account.id_number, "password": "correct horse"}
        )
        assert right.status_code == 200


async def test_no_token_is_401(client):
    assert (await client.get("/api/registry/v1/venues/mine")).status_code == 401
    bad = await client.get("/api/registry/v1/venues/mine", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401

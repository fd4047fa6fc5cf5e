"""Staff roles: operators grant them, and they appear in the next access token."""

from __future__ import annotations

import uuid

from shared.auth import AccessTokens
from shared.keys import load_keys
from tests.integration.registry.conftest import sign_up

GRANTS = "/api/registry/v1/role-grants"


def operator_headers(infra, person_id: str | None = None) -> dict[str, str]:
    tokens = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 3600)
    token = tokens.issue(uuid.UUID(person_id) if person_id else uuid.uuid4(), ["operator"])
    return {"Authorization": f"Bearer {token}"}


async def test_operator_grants_a_role_that_the_next_token_carries(client, infra):
    person = await sign_up(client)
    answer = await client.post(
        GRANTS,
        json={"person_id": person.person_id, "role": "epidemiologist"},
        headers=operator_headers(infra),
    )
    assert answer.status_code == 201
    signed = await client.post(
        "/api/registry/v1/sessions", json={"id_number": person.id_number, "password": "correct horse"}
    )
    assert signed.json()["roles"] == ["epidemiologist"]
    again = await client.post(
        GRANTS,
        json={"person_id": person.person_id, "role": "epidemiologist"},
        headers=operator_headers(infra),
    )
    assert again.status_code == 201


async def test_only_operators_grant(client, infra):
    person = await sign_up(client)
    body = {"person_id": person.person_id, "role": "operator"}
    assert (await client.post(GRANTS, json=body, headers=person.auth)).status_code == 403
    assert (await client.post(GRANTS, json=body)).status_code == 401


async def test_role_must_be_a_staff_role_and_person_must_exist(client, infra):
    person = await sign_up(client)
    bad = await client.post(
        GRANTS, json={"person_id": person.person_id, "role": "administrator"}, headers=operator_headers(infra)
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "role"
    unknown = await client.post(
        GRANTS, json={"person_id": str(uuid.uuid4()), "role": "operator"}, headers=operator_headers(infra)
    )
    assert unknown.status_code == 404

"""The operator commands: grant-role (the first operator) and bulk posters."""

from __future__ import annotations

import re

import pytest

from services.registry.commands import CommandFailed, bulk_posters, grant_role
from tests.integration.registry.conftest import sign_up
from tests.unit.registry.idgen import mainland_id


async def test_grant_role_makes_the_first_operator(client, infra, reader):
    person = await sign_up(client)
    granted = await grant_role(infra, person.id_number, "operator")
    assert str(granted) == person.person_id
    signed = await client.post(
        "/api/registry/v1/sessions", json={"id_number": person.id_number, "password": "correct horse"}
    )
    assert signed.json()["roles"] == ["operator"]
    keyed = await reader.wait_for(lambda events: any(e.type == "role.granted" for e in events))
    (event,) = [e for _, e in keyed if e.type == "role.granted"]
    assert str(event.data.person_id) == person.person_id
    assert event.data.role == "operator"
    # The new operator can now grant roles over HTTP.
    other = await sign_up(client, "李四")
    answer = await client.post(
        "/api/registry/v1/role-grants",
        json={"person_id": other.person_id, "role": "health_authority"},
        headers={"Authorization": f"Bearer {signed.json()['access_token']}"},
    )
    assert answer.status_code == 201


async def test_grant_role_refuses_unknown_people_and_roles(client, infra):
    with pytest.raises(CommandFailed):
        await grant_role(infra, mainland_id(), "operator")
    person = await sign_up(client)
    with pytest.raises(CommandFailed):
        await grant_role(infra, person.id_number, "administrator")


async def test_bulk_posters_writes_one_pdf_per_known_venue(client, infra, tmp_path, capsys):
    ids = []
    for index, name in enumerate(("甲超市", "乙餐廳")):
        admin = await sign_up(client, f"管理員{index}")
        answer = await client.post(
            "/api/registry/v1/venues", json={"region_code": "440305", "name": name}, headers=admin.auth
        )
        ids.append(answer.json()["venue_id"])
    listing = tmp_path / "venues.csv"
    listing.write_text(
        f"venue_id,region_code,name\n{ids[0]},,\n,440305,乙餐廳\n,440305,不存在\nnot-a-uuid,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "posters"
    written = await bulk_posters(infra, listing, out)
    assert written == 2
    files = sorted(out.iterdir())
    assert {f.name for f in files} == {f"venue-{vid}-v1.pdf" for vid in ids}
    for pdf in files:
        content = pdf.read_bytes()
        assert content.startswith(b"%PDF")
        assert len(re.findall(rb"/Type\s*/Page(?!s)", content)) == 1
    err = capsys.readouterr().err
    # Not a terminal here: no progress bar (shared/progress.py), only the skipped rows.
    assert "4/4" not in err
    assert "row 3: no such venue, skipped" in err

"""guardian.unlinked through Kafka: once a link ends, checkin and status refuse the former guardian
within seconds (issue 17), whether the guardian unlinked or the person revoked."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from shared.settings import InfraSettings
from tests.e2e.test_story import Person, platform
from tests.people import born_years_ago, mainland_id
from tests.waiting import eventually

# "Within seconds": the unlink must reach both read models well inside this.
HONOURED_WITHIN_S = 10.0


async def _powers(guardian: Person, person_id: str, venue_token: str, key: str) -> tuple[int, int, int]:
    """What the guardian gets for the person: the health code, the paper code, a check-in."""
    code = await guardian.call("GET", "/api/status/v1/health-code", params={"person_id": person_id})
    paper = await guardian.call("GET", "/api/status/v1/paper-code", params={"person_id": person_id})
    scan = await guardian.call(
        "POST",
        "/api/checkin/v1/scans",
        json={"venue_token": venue_token, "person_ids": [person_id]},
        headers={"Idempotency-Key": key},
    )
    return code.status_code, paper.status_code, scan.status_code


async def open_venue(client: httpx.AsyncClient, name: str) -> str:
    """A new venue whose administrator is also its inspector; its current venue token."""
    admin = await Person(client, "陳店主", mainland_id(born_years_ago(40))).register()
    venue = await admin.call(
        "POST",
        "/api/registry/v1/venues",
        json={"region_code": "440106", "name": f"{name}{uuid.uuid4().hex[:6]}", "category": "restaurant"},
    )
    assert venue.status_code == 201, venue.text
    bound = await admin.call(
        "POST",
        "/api/registry/v1/inspector-bindings",
        json={"declaration_code": venue.json()["declaration_code"]},
    )
    assert bound.status_code == 201, bound.text
    venues: list[dict[str, Any]] = (await admin.call("GET", "/api/registry/v1/inspector-bindings")).json()[
        "venues"
    ]
    token: str = venues[0]["venue_token"]
    return token


async def test_unlinks_are_honoured_by_checkin_and_status_within_seconds(infra: InfraSettings) -> None:
    async with platform(infra) as client:
        venue_token = await open_venue(client, "解除測試茶樓")
        guardian = await Person(client, "王家長", mainland_id(born_years_ago(38))).register()
        grandma = await Person(client, "王外婆", mainland_id(born_years_ago(66))).register()
        child = await guardian.call(
            "POST",
            "/api/registry/v1/dependents",
            json={
                "name": "王小寶",
                "id_kind": "mainland_id",
                "id_number": mainland_id(born_years_ago(7)),
                "relation": "child",
            },
        )
        assert (child.status_code, child.json()["state"]) == (201, "active"), child.text
        asked = await guardian.call(
            "POST",
            "/api/registry/v1/dependents",
            json={
                "name": grandma.name,
                "id_kind": "mainland_id",
                "id_number": grandma.id_number,
                "relation": "grandparent",
            },
        )
        assert (asked.status_code, asked.json()["state"]) == (201, "pending"), asked.text

        # Before consent the guardian may do nothing for the grandmother.
        refused = await _powers(guardian, grandma.person_id, venue_token, "pending-1")
        assert refused == (403, 403, 403)
        accepted = await grandma.call("POST", f"/api/registry/v1/guardians/{guardian.person_id}/accept")
        assert accepted.status_code == 200, accepted.text

        people = {"child": child.json()["person_id"], "grandma": grandma.person_id}

        async def both_read_models_know() -> bool:
            # Read-only polls: every check-in counts against the person's cap of 30 in 10 minutes.
            mine = await guardian.call("GET", "/api/checkin/v1/me/people")
            ticked = {p["person_id"] for p in mine.json()["people"]}
            codes = [
                await guardian.call("GET", "/api/status/v1/health-code", params={"person_id": p})
                for p in people.values()
            ]
            return set(people.values()) <= ticked and all(c.status_code == 200 for c in codes)

        await eventually(both_read_models_know, timeout_s=30)
        for who, person_id in people.items():
            assert await _powers(guardian, person_id, venue_token, f"{who}-on") == (200, 200, 201)

        # The guardian unlinks the child; the grandmother revokes her own link.
        gone = await guardian.call("DELETE", f"/api/registry/v1/dependents/{people['child']}")
        assert gone.status_code == 204, gone.text
        revoked = await grandma.call("DELETE", f"/api/registry/v1/guardians/{guardian.person_id}")
        assert revoked.status_code == 204, revoked.text
        attempt = iter(range(100_000))  # a new Idempotency-Key for every poll
        for who, person_id in people.items():

            async def ended(who: str = who, person_id: str = person_id) -> bool:
                key = f"{who}-off-{next(attempt)}"
                return await _powers(guardian, person_id, venue_token, key) == (403, 403, 403)

            await eventually(ended, timeout_s=HONOURED_WITHIN_S)
        # The grandmother herself is untouched by the end of the link.
        own = await grandma.call("GET", "/api/status/v1/health-code")
        assert own.status_code == 200

"""One small province for the security tests: every kind of caller, two venues, a family, a query.

Venue A is the venue the tests aim at; its administrator and inspector are the
positive controls. The "other" administrator and inspector hold venue B, so
they are staff, but not of A.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from shared.auth import AccessTokens
from shared.keys import load_keys
from shared.settings import InfraSettings
from shared.tokens import TokenSigner
from tests.e2e.test_story import Person
from tests.people import born_years_ago, mainland_id
from tests.waiting import eventually

# The callers of the access-control matrix (issue 10), then the positive controls of venue A.
CALLERS = (
    "anonymous",
    "citizen",
    "guardian",
    "administrator_other",
    "inspector_other",
    "epidemiologist",
    "health_authority",
    "operator",
)
CONTROLS = ("venue_administrator", "venue_inspector")


@dataclass
class World:
    infra: InfraSettings
    origin: str
    client: httpx.AsyncClient
    people: dict[str, Person] = field(default_factory=dict)
    venue_a: str = ""
    venue_a_name: str = ""
    venue_a_token: str = ""
    venue_b: str = ""
    child_id: str = ""
    child_number: str = ""
    # The check-in ids each caller was answered, so a body can be checked for others' visits.
    checkins: dict[str, set[str]] = field(default_factory=dict)
    spare_inspector: Person = field(init=False)
    elder: Person = field(init=False)
    query_id: str = ""
    # Outbreak work: a stored exposure analysis, an alert to approve, one alert per caller to withdraw.
    analysis_id: str = ""
    alert_id: str = ""
    alerts_to_withdraw: dict[str, str] = field(default_factory=dict)

    def person(self, caller: str) -> Person | None:
        return None if caller == "anonymous" else self.people[caller]

    @property
    def signer(self) -> TokenSigner:
        return TokenSigner(load_keys(self.infra).tokens)

    @property
    def access_tokens(self) -> AccessTokens:
        return AccessTokens(load_keys(self.infra).jwt, self.infra.jwt_audience, 3600)

    async def declaration_code_a(self) -> str:
        mine = await self.people["venue_administrator"].call("GET", "/api/registry/v1/venues/mine")
        assert mine.status_code == 200, mine.text
        code: str = mine.json()["declaration_code"]
        return code


async def _venue(admin: Person, name: str) -> tuple[str, str]:
    answer = await admin.call(
        "POST",
        "/api/registry/v1/venues",
        json={"region_code": "440106", "name": name, "category": "restaurant"},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["venue_id"], answer.json()["declaration_code"]


async def _bind(inspector: Person, code: str) -> None:
    answer = await inspector.call(
        "POST", "/api/registry/v1/inspector-bindings", json={"declaration_code": code}
    )
    assert answer.status_code in (200, 201), answer.text


CHILD_NAME = "王小寶"


async def add_child(world: World) -> str:
    """The guardian's child, who has no account: under guardianship at once."""
    child = await world.people["guardian"].call(
        "POST",
        "/api/registry/v1/dependents",
        json={
            "name": CHILD_NAME,
            "id_kind": "mainland_id",
            "id_number": world.child_number,
            "relation": "child",
        },
    )
    assert child.status_code == 201, child.text
    assert child.json()["state"] == "active", child.text
    person_id: str = child.json()["person_id"]
    return person_id


async def ask_citizen(world: World) -> None:
    citizen = world.people["citizen"]
    asked = await world.people["guardian"].call(
        "POST",
        "/api/registry/v1/dependents",
        json={
            "name": citizen.name,
            "id_kind": "mainland_id",
            "id_number": citizen.id_number,
            "relation": "spouse",
        },
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["state"] == "pending", asked.text


async def build_world(infra: InfraSettings, origin: str) -> World:
    """Register everyone through the API, grant the staff roles, wait for the read models."""
    from services.registry.commands import grant_role

    client = httpx.AsyncClient(base_url=origin, timeout=30)
    world = World(infra, origin, client)

    async def person(name: str, age: int = 35) -> Person:
        return await Person(client, name, mainland_id(born_years_ago(age))).register()

    names = {
        "citizen": "林市民",
        "guardian": "王家長",
        "administrator_other": "趙老闆",
        "inspector_other": "錢檢測",
        "epidemiologist": "孫流調",
        "health_authority": "周衛生",
        "operator": "吳運營",
        "venue_administrator": "鄭店主",
        "venue_inspector": "馮檢測",
    }
    for caller, name in names.items():
        world.people[caller] = await person(name)
    world.spare_inspector = await person("陳備用")
    world.elder = await person("何老伯", age=75)

    admin_a, admin_b = world.people["venue_administrator"], world.people["administrator_other"]
    world.venue_a_name = "安全測試茶樓"
    world.venue_a, code_a = await _venue(admin_a, world.venue_a_name)
    world.venue_b, code_b = await _venue(admin_b, "安全測試書店")
    await _bind(world.people["venue_inspector"], code_a)
    await _bind(world.spare_inspector, code_a)
    await _bind(world.people["inspector_other"], code_b)

    world.child_number = mainland_id(born_years_ago(7))
    world.child_id = await add_child(world)
    # A request to an adult with an account: pending until the citizen accepts (issue 17).
    await ask_citizen(world)

    operator = world.people["operator"]
    await grant_role(infra, operator.id_number, "operator")
    await operator.sign_in()
    for caller, role in (("epidemiologist", "epidemiologist"), ("health_authority", "health_authority")):
        granted = await operator.call(
            "POST",
            "/api/registry/v1/role-grants",
            json={"person_id": world.people[caller].person_id, "role": role},
        )
        assert granted.status_code == 201, granted.text
        await world.people[caller].sign_in()

    bindings = await world.people["venue_inspector"].call("GET", "/api/registry/v1/inspector-bindings")
    world.venue_a_token = next(
        v["venue_token"] for v in bindings.json()["venues"] if v["venue_id"] == world.venue_a
    )
    await _wait_for_read_models(world)

    # A stored contact query whose case went nowhere: exporting and notifying it touches nobody.
    now = datetime.now(UTC)
    query = await world.people["epidemiologist"].call(
        "POST",
        "/api/tracing/v1/contact-queries",
        json={
            "person_id": world.spare_inspector.person_id,
            "from": (now - timedelta(hours=2)).isoformat(),
            "to": (now + timedelta(hours=1)).isoformat(),
        },
    )
    assert query.status_code == 201, query.text
    world.query_id = query.json()["query_id"]
    await _outbreak_work(world, now)
    return world


async def _outbreak_work(world: World, now: datetime) -> None:
    """What the outbreak rows act on: nobody is present at venue B in the window, so approving
    and withdrawing its alerts changes nobody's colour."""
    epi = world.people["epidemiologist"]
    span = {"from": (now - timedelta(hours=2)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}
    cases = [world.spare_inspector.person_id, world.elder.person_id]
    analysis = await epi.call("POST", "/api/tracing/v1/exposure-analyses", json={"person_ids": cases, **span})
    assert analysis.status_code == 201, analysis.text
    world.analysis_id = analysis.json()["analysis_id"]
    alert = {"venue_id": world.venue_b, **span}
    for caller in ("approve", *world.people):
        made = await epi.call("POST", "/api/tracing/v1/venue-alerts", json=alert)
        assert made.status_code == 201, made.text
        if caller == "approve":
            world.alert_id = made.json()["alert_id"]
        else:
            world.alerts_to_withdraw[caller] = made.json()["alert_id"]
    world.alerts_to_withdraw["anonymous"] = world.alert_id


async def _wait_for_read_models(world: World) -> None:
    """Registry events reach checkin and status asynchronously; wait until both know the world."""
    guardian, other = world.people["guardian"], world.people["inspector_other"]
    inspector = world.people["venue_inspector"]

    async def status_knows() -> bool:
        code = await guardian.call("GET", "/api/status/v1/health-code", params={"person_id": world.child_id})
        if code.status_code != 200:
            return False
        token = world.signer.health_code(uuid.UUID(world.child_id))[0]
        for staff in (other, inspector):
            shown = await staff.call("POST", "/api/status/v1/health-codes/verify", json={"token": token})
            if shown.status_code != 200:
                return False
        # The spare asks: the lookup is capped per caller, and the matrix counts on the others' caps.
        lookup = await world.spare_inspector.call(
            "POST",
            "/api/status/v1/assisted-lookups",
            json={"name": world.elder.name, "id_number": world.elder.id_number},
        )
        return lookup.status_code == 200

    async def checkin_knows() -> bool:
        people = await guardian.call("GET", "/api/checkin/v1/me/people")
        if people.status_code != 200 or len(people.json()["people"]) < 2:
            return False
        page = await guardian.call("GET", f"/c/{world.venue_a_token}")
        if page.status_code != 200:
            return False
        closed = await inspector.call("POST", f"/api/checkin/v1/venues/{world.venue_a}/close")
        return closed.status_code == 202

    await eventually(status_knows, timeout_s=60)
    await eventually(checkin_knows, timeout_s=60)

"""The access-control matrix: every endpoint of API.md x every kind of caller, against the live apps.

Each row names the endpoint as API.md writes it, how to call it, and the status
every caller must get; every 2xx body is then read for what the caller may not
see (``bodies.py``: another person's id, name, number or visits; venue B).
Anonymous callers get 401 unless the endpoint is public.
"Other" staff hold venue B, so venue A's rights must not reach them; venue A's
own administrator and inspector are the positive controls. Rows that change
the world in a way later rows would notice come last.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.registry import declaration
from tests.people import born_years_ago, mainland_id
from tests.security import bodies
from tests.security.bodies import Extra
from tests.security.world import CALLERS, CONTROLS, World, add_child, ask_citizen
from tests.waiting import eventually

Request = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True)
class Row:
    endpoint: str
    request: Callable[[World, str], Request]
    expected: dict[str, int]
    # Puts back what the positive control changed, so later rows see the same world.
    restore: Callable[[World], Any] | None = None
    # Whom the row lets a caller see beyond themself and their dependents (bodies.py).
    sees: Extra | None = None
    note: str = ""
    # Waits (with a deadline) until what the row reads has arrived, so its body check has matter.
    settle: Callable[[World, str], Awaitable[None]] | None = None


def expect(default: int, anonymous: int = 401, **overrides: int) -> dict[str, int]:
    table = dict.fromkeys((*CALLERS, *CONTROLS), default)
    table["anonymous"] = anonymous
    unknown = set(overrides) - set(table)
    assert not unknown, unknown
    return table | overrides


def window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"from": (now - timedelta(hours=2)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}


def new_account(world: World, caller: str) -> Request:
    body = {
        "name": "新用戶",
        "id_kind": "mainland_id",
        "id_number": mainland_id(born_years_ago(30)),
        "phone": "13800138000",
        "password": "correct horse battery",
    }
    return "POST", "/api/registry/v1/accounts", {"json": body}


def new_child(world: World, caller: str) -> Request:
    body = {
        "name": "新小孩",
        "id_kind": "mainland_id",
        "id_number": mainland_id(born_years_ago(5)),
        "relation": "child",
    }
    return "POST", "/api/registry/v1/dependents", {"json": body}


def health_token(world: World) -> str:
    return world.signer.health_code(uuid.UUID(world.child_id))[0]


def scan(world: World, caller: str) -> Request:
    headers = {"Idempotency-Key": f"matrix-{caller}-{uuid.uuid4()}"}
    return "POST", "/api/checkin/v1/scans", {"json": {"venue_token": world.venue_a_token}, "headers": headers}


def family_row(endpoint: str, path: Callable[[World], str], expected: dict[str, int], **more: Any) -> Row:
    """A row whose request has no body: the method of ``endpoint`` on ``path(world)``."""
    method = endpoint.split(" ", 1)[0]
    return Row(endpoint, lambda w, c: (method, path(w), {}), expected, **more)


async def re_ask_citizen(world: World) -> None:
    """After the citizen accepted: end the link and ask again, so the request is pending."""
    citizen, guardian = world.people["citizen"], world.people["guardian"]
    ended = await citizen.call("DELETE", f"/api/registry/v1/guardians/{guardian.person_id}")
    assert ended.status_code == 204, ended.text
    await ask_citizen(world)


async def relink_child(world: World) -> None:
    assert await add_child(world) == world.child_id


async def own_visits_arrived(world: World, caller: str) -> None:
    """Tracing has ingested every check-in the caller was answered by the scan row."""
    person = world.person(caller)
    if person is None:
        return

    async def arrived() -> bool:
        answer = await person.call("GET", "/api/tracing/v1/me/visits", params=window())
        seen = {v["checkin_id"] for v in answer.json()["visits"]}
        return world.checkins.get(caller, set()) <= seen

    await eventually(arrived, timeout_s=30)


async def rebind_inspector(world: World) -> None:
    code = await world.declaration_code_a()
    answer = await world.people["venue_inspector"].call(
        "POST", "/api/registry/v1/inspector-bindings", json={"declaration_code": code}
    )
    assert answer.status_code == 201, answer.text


ROWS: list[Row] = [
    # --- registry ---
    Row("POST /api/registry/v1/accounts", new_account, expect(201, anonymous=201)),
    Row(
        "POST /api/registry/v1/sessions",
        lambda w, c: (
            "POST",
            "/api/registry/v1/sessions",
            {"json": {"id_number": w.elder.id_number, "password": "correct horse battery"}},
        ),
        expect(200, anonymous=200),
        sees=bodies.the_signed_in_elder,
    ),
    Row(
        "POST /api/registry/v1/venues",
        # Venue A's own region and name: every account passes authorisation and meets the rule (409).
        lambda w, c: (
            "POST",
            "/api/registry/v1/venues",
            {"json": {"region_code": "440106", "name": w.venue_a_name}},
        ),
        expect(409),
    ),
    Row(
        "GET /api/registry/v1/venues/mine",
        lambda w, c: ("GET", "/api/registry/v1/venues/mine", {}),
        expect(404, administrator_other=200, venue_administrator=200),
        sees=bodies.the_venue_inspectors,
    ),
    Row(
        "POST /api/registry/v1/venues/{venue_id}/declaration-code/rotate",
        lambda w, c: ("POST", f"/api/registry/v1/venues/{w.venue_a}/declaration-code/rotate", {}),
        expect(403, venue_administrator=200),
    ),
    Row(
        "POST /api/registry/v1/inspector-bindings",
        # A well-formed code no venue holds: every account is let in and told 404.
        lambda w, c: (
            "POST",
            "/api/registry/v1/inspector-bindings",
            {"json": {"declaration_code": declaration.generate()}},
        ),
        expect(404),
    ),
    Row(
        "GET /api/registry/v1/inspector-bindings",
        lambda w, c: ("GET", "/api/registry/v1/inspector-bindings", {}),
        expect(200),
    ),
    Row(
        "GET /api/registry/v1/venues/{venue_id}/code",
        lambda w, c: ("GET", f"/api/registry/v1/venues/{w.venue_a}/code", {"params": {"format": "svg"}}),
        expect(403, venue_inspector=200),
    ),
    Row("POST /api/registry/v1/dependents", new_child, expect(201)),
    Row(
        "GET /api/registry/v1/dependents",
        lambda w, c: ("GET", "/api/registry/v1/dependents", {}),
        expect(200),
        sees=bodies.the_asked_citizen,
    ),
    family_row(
        "GET /api/registry/v1/guardians",
        lambda w: "/api/registry/v1/guardians",
        expect(200),
        sees=bodies.the_guardian_asking,
    ),
    Row(
        "POST /api/registry/v1/role-grants",
        lambda w, c: (
            "POST",
            "/api/registry/v1/role-grants",
            {"json": {"person_id": w.elder.person_id, "role": "epidemiologist"}},
        ),
        expect(403, operator=201),
        sees=bodies.the_signed_in_elder,
    ),
    # --- status ---
    Row(
        "GET /api/status/v1/health-code",
        lambda w, c: ("GET", "/api/status/v1/health-code", {"params": {"person_id": w.child_id}}),
        expect(403, guardian=200),
    ),
    # The guardian asked the citizen, who has not accepted: no power over them yet (issue 17).
    Row(
        "GET /api/status/v1/health-code",
        lambda w, c: (
            "GET",
            "/api/status/v1/health-code",
            {"params": {"person_id": w.people["citizen"].person_id}},
        ),
        expect(403, citizen=200),
        note="of an adult who has not accepted",
    ),
    Row(
        "GET /api/status/v1/paper-code",
        lambda w, c: ("GET", "/api/status/v1/paper-code", {"params": {"person_id": w.child_id}}),
        expect(403, guardian=200),
    ),
    Row(
        "POST /api/status/v1/health-codes/verify",
        lambda w, c: ("POST", "/api/status/v1/health-codes/verify", {"json": {"token": health_token(w)}}),
        expect(403, inspector_other=200, venue_inspector=200),
        sees=bodies.the_code_holder,
    ),
    Row(
        "PUT /api/status/v1/persons/{person_id}/status",
        lambda w, c: (
            "PUT",
            f"/api/status/v1/persons/{w.people['citizen'].person_id}/status",
            {"json": {"colour": "green", "reason": "none"}},
        ),
        expect(403, health_authority=200),
        sees=bodies.the_status_subject,
    ),
    Row(
        "POST /api/status/v1/assisted-lookups",
        lambda w, c: (
            "POST",
            "/api/status/v1/assisted-lookups",
            {"json": {"name": w.elder.name, "id_number": w.elder.id_number}},
        ),
        expect(200),
    ),
    # --- checkin ---
    Row("POST /api/checkin/v1/scans", scan, expect(201)),
    Row(
        "POST /api/checkin/v1/scans",
        lambda w, c: (
            "POST",
            "/api/checkin/v1/scans",
            {
                "json": {"venue_token": w.venue_a_token, "person_ids": [w.people["citizen"].person_id]},
                "headers": {"Idempotency-Key": f"matrix-asked-{c}-{uuid.uuid4()}"},
            },
        ),
        expect(403, citizen=201),
        note="of an adult who has not accepted",
    ),
    Row(
        "POST /api/checkin/v1/checkouts",
        lambda w, c: ("POST", "/api/checkin/v1/checkouts", {"json": {"venue_token": w.venue_a_token}}),
        expect(201),
    ),
    Row(
        "POST /api/checkin/v1/venues/{venue_id}/close",
        lambda w, c: ("POST", f"/api/checkin/v1/venues/{w.venue_a}/close", {}),
        expect(403, venue_administrator=202, venue_inspector=202),
    ),
    Row(
        "POST /api/checkin/v1/inspections",
        lambda w, c: (
            "POST",
            "/api/checkin/v1/inspections",
            {
                "json": {
                    "venue_id": w.venue_a,
                    "health_code_token": health_token(w),
                    "temperature_band": "normal",
                }
            },
        ),
        expect(403, venue_inspector=201),
        sees=bodies.the_code_holder,
    ),
    # The page is public; without a session it sends the phone to sign in first.
    Row(
        "GET /c/{venue_token}", lambda w, c: ("GET", f"/c/{w.venue_a_token}", {}), expect(200, anonymous=303)
    ),
    # --- tracing ---
    Row(
        "GET /api/tracing/v1/venues/{venue_id}/presence",
        lambda w, c: ("GET", f"/api/tracing/v1/venues/{w.venue_a}/presence", {"params": window()}),
        expect(403, epidemiologist=200),
        sees=bodies.everybody,
    ),
    Row(
        "POST /api/tracing/v1/contact-queries",
        lambda w, c: (
            "POST",
            "/api/tracing/v1/contact-queries",
            {"json": {"person_id": w.spare_inspector.person_id, **window()}},
        ),
        expect(403, epidemiologist=201),
        sees=bodies.everybody,
    ),
    Row(
        "GET /api/tracing/v1/contact-queries/{query_id}.csv",
        lambda w, c: ("GET", f"/api/tracing/v1/contact-queries/{w.query_id}.csv", {}),
        expect(403, epidemiologist=200),
        sees=bodies.everybody,
    ),
    Row(
        "POST /api/tracing/v1/contact-queries/{query_id}/notifications",
        lambda w, c: (
            "POST",
            f"/api/tracing/v1/contact-queries/{w.query_id}/notifications",
            {"json": {"colour": "yellow", "reason": "close_contact"}},
        ),
        expect(403, epidemiologist=202),
        sees=bodies.everybody,
    ),
    Row(
        "GET /api/tracing/v1/me/visits",
        lambda w, c: ("GET", "/api/tracing/v1/me/visits", {"params": window()}),
        expect(200),
        settle=own_visits_arrived,
    ),
    Row(
        "GET /api/tracing/v1/audit",
        lambda w, c: ("GET", "/api/tracing/v1/audit", {"params": window()}),
        expect(403, operator=200),
        sees=bodies.everybody,
    ),
    # --- tracing: outbreak work (README "API additions"; not in API.md) ---
    Row(
        "POST /api/tracing/v1/exposure-analyses",
        lambda w, c: (
            "POST",
            "/api/tracing/v1/exposure-analyses",
            {"json": {"person_ids": [w.spare_inspector.person_id, w.elder.person_id], **window()}},
        ),
        expect(403, epidemiologist=201),
        sees=bodies.everybody,
    ),
    *(
        Row(
            f"GET /api/tracing/v1/exposure-analyses/{{analysis_id}}{tail}",
            lambda w, c, tail=tail: ("GET", f"/api/tracing/v1/exposure-analyses/{w.analysis_id}{tail}", {}),
            expect(403, epidemiologist=200),
            sees=bodies.everybody,
        )
        for tail in ("", ".csv", "/graph", "/graph.csv", "/graph.graphml")
    ),
    Row(
        "POST /api/tracing/v1/venue-alerts",
        lambda w, c: ("POST", "/api/tracing/v1/venue-alerts", {"json": {"venue_id": w.venue_b, **window()}}),
        expect(403, epidemiologist=201),
        sees=bodies.everybody,
    ),
    Row(
        "GET /api/tracing/v1/venue-alerts",
        lambda w, c: ("GET", "/api/tracing/v1/venue-alerts", {"params": {"state": "pending"}}),
        expect(403, epidemiologist=200, health_authority=200),
        sees=bodies.everybody,
    ),
    Row(
        "GET /api/tracing/v1/venue-alerts/{alert_id}",
        lambda w, c: ("GET", f"/api/tracing/v1/venue-alerts/{w.alert_id}", {}),
        expect(403, epidemiologist=200, health_authority=200),
        sees=bodies.everybody,
    ),
    # Only the health authority approves; the two-person rule (its creator holding the role
    # too) is tested end to end in tests/e2e/test_venue_alerts.py.
    Row(
        "POST /api/tracing/v1/venue-alerts/{alert_id}/approvals",
        lambda w, c: ("POST", f"/api/tracing/v1/venue-alerts/{w.alert_id}/approvals", {}),
        expect(403, health_authority=200),
        sees=bodies.everybody,
    ),
    Row(
        "POST /api/tracing/v1/venue-alerts/{alert_id}/withdrawal",
        lambda w, c: ("POST", f"/api/tracing/v1/venue-alerts/{w.alerts_to_withdraw[c]}/withdrawal", {}),
        expect(403, epidemiologist=200, health_authority=200),
        sees=bodies.everybody,
    ),
    # --- rows that unbind people: last ---
    Row(
        "DELETE /api/registry/v1/venues/{venue_id}/inspectors/{person_id}",
        lambda w, c: (
            "DELETE",
            f"/api/registry/v1/venues/{w.venue_a}/inspectors/{w.spare_inspector.person_id}",
            {},
        ),
        expect(403, venue_administrator=204),
    ),
    Row(
        "DELETE /api/registry/v1/inspector-bindings/{venue_id}",
        lambda w, c: ("DELETE", f"/api/registry/v1/inspector-bindings/{w.venue_a}", {}),
        expect(404, venue_inspector=204),
        restore=rebind_inspector,
    ),
    # --- family links that change (issue 17): only the person answers, only the guardian unlinks ---
    family_row(
        "POST /api/registry/v1/guardians/{guardian_id}/accept",
        lambda w: f"/api/registry/v1/guardians/{w.people['guardian'].person_id}/accept",
        expect(404, citizen=200),
        restore=re_ask_citizen,
        sees=bodies.the_guardian_asking,
    ),
    family_row(
        "DELETE /api/registry/v1/guardians/{guardian_id}",
        lambda w: f"/api/registry/v1/guardians/{w.people['guardian'].person_id}",
        expect(404, citizen=204),
        restore=ask_citizen,
    ),
    family_row(
        "DELETE /api/registry/v1/dependents/{person_id}",
        lambda w: f"/api/registry/v1/dependents/{w.child_id}",
        expect(404, guardian=204),
        restore=relink_child,
    ),
]

CASES = [
    pytest.param(row, caller, id=f"{row.endpoint} {row.note} as {caller}".replace("  ", " "))
    for row in ROWS
    for caller in (*CALLERS, *CONTROLS)
]


def test_every_endpoint_of_api_md_is_in_the_matrix() -> None:
    import re
    from pathlib import Path

    api = Path(__file__).resolve().parents[3] / "shared" / "API.md"
    if not api.exists():  # the contract lives beside the checkout on the build machines
        pytest.skip("API.md is not beside this checkout")
    pattern = re.compile(r"^\| `((?:GET|POST|PUT|DELETE|PATCH) [^`?]+)", re.MULTILINE)
    listed = set(pattern.findall(api.read_text()))
    assert listed, "no endpoints found in API.md"
    # Additions to API.md are documented in the README (issue 17: family links).
    added = set(pattern.findall((Path(__file__).resolve().parents[2] / "README.md").read_text()))
    rows = {row.endpoint for row in ROWS}
    assert listed <= rows
    assert rows <= listed | added


def _is_text(answer: httpx.Response) -> bool:
    kind = answer.headers.get("content-type", "")
    return any(t in kind for t in ("json", "text/", "svg"))


async def test_the_body_check_sees_a_leak(world: World) -> None:
    """The oracle's own control: another person's id, name, number or visit in a body is caught."""
    citizen = world.people["citizen"]
    assert bodies.leaks(world, "guardian", f'{{"person_id": "{world.child_id}"}}', None) == []
    for text in (citizen.person_id, citizen.name, citizen.id_number, world.venue_b):
        assert bodies.leaks(world, "guardian", f'{{"x": "{text}"}}', None), text
    assert bodies.leaks(world, "citizen", citizen.name, bodies.everybody)
    world.checkins.setdefault("citizen", set()).add("0192f0c8-aaaa-7000-8000-000000000001")
    assert bodies.leaks(world, "guardian", "0192f0c8-aaaa-7000-8000-000000000001", None)
    world.checkins["citizen"].discard("0192f0c8-aaaa-7000-8000-000000000001")


@pytest.mark.parametrize(("row", "caller"), CASES)
async def test_access(world: World, row: Row, caller: str) -> None:
    if row.settle is not None:
        await row.settle(world, caller)
    method, path, kwargs = row.request(world, caller)
    person = world.person(caller)
    if person is None:
        world.client.cookies.clear()
        answer: httpx.Response = await world.client.request(method, path, **kwargs)
        world.client.cookies.clear()
    else:
        answer = await person.call(method, path, **kwargs)
    expected = row.expected[caller]
    try:
        assert answer.status_code == expected, (answer.status_code, answer.text[:300])
        if answer.status_code == 201 and path == "/api/checkin/v1/scans":
            mine = world.checkins.setdefault(caller, set())
            mine.update(c["checkin_id"] for c in answer.json()["checkins"])
        if 200 <= answer.status_code < 300 and caller != "anonymous" and _is_text(answer):
            assert bodies.leaks(world, caller, answer.text, row.sees) == [], answer.text[:500]
    finally:
        if row.restore is not None and answer.status_code < 300 and expected < 300:
            await row.restore(world)

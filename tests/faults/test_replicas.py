"""The platform under replicas: real nginx (deploy/gateway) in front of 3 checkin, 2 status,
2 tracing and 1 registry `venuecode serve` processes; 60 s of mixed load (self and family scans,
inspections, status changes, contact queries) while one process of each kind is killed
(SIGKILL) once and restarted. Every acknowledged check-in and status change is found exactly
once, no answer is a 500, and the counts per kind are printed.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.test_story import Person
from tests.faults.fleet import CITIZENS, REPLICAS, Fleet, client_from, fleet, seed  # noqa: F401 - fleet: the fixture
from tests.integration.deploy.conftest import nginx  # noqa: F401 - the fixture the fleet's needs
from tests.waiting import eventually

LOAD_S = 60.0
# Kill one process of each kind, spread over the run, and restart it this much later.
KILLS = (("checkin", 10.0), ("status", 22.0), ("tracing", 34.0), ("registry", 46.0))
RESTART_AFTER_S = 3.0
WORKERS = 4
PAUSE_S = 0.5  # per worker between operations: ~8 a second in all (checkin caps 30 scans a person in 10 min)
RETRY_FOR_S = 30.0  # a client retries a failed request (same Idempotency-Key) this long
SETTLE_S = 120.0  # for tracing to store every acknowledged check-in after the load


@dataclass
class Tally:
    """What the load saw: acknowledgements per kind and every status code."""

    checkins: set[str] = field(default_factory=set)
    status_changes: set[tuple[str, int]] = field(default_factory=set)
    acked: Counter[str] = field(default_factory=Counter)
    codes: Counter[int] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    gave_up: Counter[str] = field(default_factory=Counter)


async def _patient(tally: Tally, kind: str, send: Any) -> httpx.Response | None:
    """Send until an answer that is not a gateway/upstream failure, as a phone retries (same key)."""
    end = time.monotonic() + RETRY_FOR_S
    while True:
        try:
            answer: httpx.Response = await send()
            tally.codes[answer.status_code] += 1
            if answer.status_code not in {429, 502, 503, 504}:
                return answer
        except httpx.TransportError:
            tally.codes[0] += 1
        if time.monotonic() > end:
            tally.gave_up[kind] += 1
            return None
        tally.retries[kind] += 1
        await asyncio.sleep(0.3)


@pytest.mark.timeout(600)  # eight processes start on a shared 2-core machine, then a minute of load
async def test_the_platform_under_replicas_loses_and_doubles_nothing_when_a_process_of_each_kind_dies(
    fleet: Fleet,  # noqa: F811 - the fixture
) -> None:
    clients = [client_from(fleet.base_url, n) for n in range(5 + CITIZENS)]
    try:
        world = await seed(fleet, clients)
        await _run(fleet, world)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def _run(platform: Fleet, world: dict[str, Any]) -> None:
    tally = Tally()
    rng = random.Random(15)
    citizens: list[Person] = world["citizens"]
    token, venue_id = world["venue_token"], world["venue_id"]
    inspector, authority, epidemiologist = world["inspector"], world["authority"], world["epidemiologist"]

    def acknowledge(kind: str, answer: httpx.Response | None, created: set[int]) -> Any:
        if answer is None or answer.status_code not in created:
            return None
        tally.acked[kind] += 1
        return answer.json()

    async def scan(kind: str, citizen: Person, person_ids: list[str]) -> None:
        key = uuid.uuid4().hex  # one key per scan, kept across its retries
        body = {"venue_token": token, "person_ids": person_ids}
        answer = await _patient(
            tally,
            kind,
            lambda: citizen.call(
                "POST", "/api/checkin/v1/scans", json=body, headers={"Idempotency-Key": key}
            ),
        )
        if (found := acknowledge(kind, answer, {200, 201})) is not None:
            tally.checkins.update(row["checkin_id"] for row in found["checkins"])

    async def self_scan() -> None:
        citizen = rng.choice(citizens)
        await scan("self scan", citizen, [citizen.person_id])

    async def family_scan() -> None:
        n = rng.randrange(len(citizens))
        await scan("family scan", citizens[n], [citizens[n].person_id, world["children"][n]])

    async def inspection() -> None:
        citizen = rng.choice(citizens)
        code = await _patient(tally, "inspection", lambda: citizen.call("GET", "/api/status/v1/health-code"))
        if code is None or code.status_code != 200:
            return
        body = {"venue_id": venue_id, "health_code_token": code.json()["token"], "temperature_band": "normal"}
        answer = await _patient(
            tally, "inspection", lambda: inspector.call("POST", "/api/checkin/v1/inspections", json=body)
        )
        if (found := acknowledge("inspection", answer, {201})) is not None:
            tally.checkins.add(found["checkin_id"])

    async def status_change() -> None:
        person = rng.choice(citizens).person_id
        colour, reason = rng.choice([("yellow", "close_contact"), ("green", "none")])
        path = f"/api/status/v1/persons/{person}/status"
        answer = await _patient(
            tally,
            "status change",
            lambda: authority.call("PUT", path, json={"colour": colour, "reason": reason}),
        )
        if (found := acknowledge("status change", answer, {200})) is not None:
            tally.status_changes.add((found["person_id"], found["version"]))

    async def contact_query() -> None:
        now = datetime.now(UTC)
        body = {
            "person_id": rng.choice(citizens).person_id,
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (now + timedelta(minutes=5)).isoformat(),
        }
        answer = await _patient(
            tally,
            "contact query",
            lambda: epidemiologist.call("POST", "/api/tracing/v1/contact-queries", json=body),
        )
        acknowledge("contact query", answer, {201})

    operations = [self_scan, family_scan, inspection, status_change, contact_query]
    weights = [35, 20, 15, 15, 15]
    end = time.monotonic() + LOAD_S

    async def worker() -> None:
        while time.monotonic() < end:
            await rng.choices(operations, weights)[0]()
            await asyncio.sleep(PAUSE_S)

    async def chaos() -> None:
        start = time.monotonic()
        for service, at in KILLS:
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            platform.kill(service, 0)
            await asyncio.sleep(RESTART_AFTER_S)
            await platform.start(service, 0)

    await asyncio.gather(chaos(), *(worker() for _ in range(WORKERS)))
    await _verify(platform, tally)


async def _verify(platform: Fleet, tally: Tally) -> None:
    conn = await asyncpg.connect(platform.database_url)
    try:

        async def stored() -> dict[str, int] | None:
            rows = await conn.fetch(
                "SELECT checkin_id::text AS id, count(*) AS n FROM tracing.checkins"
                " WHERE checkin_id = ANY($1::uuid[]) GROUP BY 1",
                list(tally.checkins),
            )
            found = {row["id"]: int(row["n"]) for row in rows}
            return found if len(found) == len(tally.checkins) else None

        checkins = await eventually(stored, timeout_s=SETTLE_S)
        rows = await conn.fetch(
            "SELECT h.person_id::text AS person_id, h.version, count(*) AS n FROM status.history h"
            " JOIN unnest($1::uuid[], $2::int[]) AS a(p, v) ON h.person_id = a.p AND h.version = a.v"
            " GROUP BY 1, 2",
            [p for p, _ in tally.status_changes],
            [v for _, v in tally.status_changes],
        )
        changes = {(row["person_id"], row["version"]): int(row["n"]) for row in rows}
    finally:
        await conn.close()

    print(
        "\nreplicas:",
        dict(REPLICAS),
        "killed once each:",
        [service for service, _ in KILLS],
        f"\nacknowledged per kind: {dict(tally.acked)}",
        f"\ncheck-ins acknowledged {len(tally.checkins)}, stored {sum(checkins.values())}",
        f"\nstatus changes acknowledged {len(tally.status_changes)}, recorded {sum(changes.values())}",
        f"\nretries per kind: {dict(tally.retries)}; given up: {dict(tally.gave_up)}",
        f"\nanswers by status (0 = no connection): {dict(sorted(tally.codes.items()))}",
    )
    assert tally.codes[500] == 0, tally.codes
    assert all(n == 1 for n in checkins.values()), [i for i, n in checkins.items() if n != 1]
    assert changes == dict.fromkeys(tally.status_changes, 1)
    # The load really ran through the deaths: every kind was acknowledged many times.
    kinds = ("self scan", "family scan", "inspection", "status change", "contact query")
    assert all(tally.acked[kind] >= 10 for kind in kinds), tally.acked

"""The platform under replicas: real nginx (deploy/gateway) in front of 3 checkin, 2 status,
2 tracing and 1 registry `venuecode serve` processes; 60 s of mixed load (self and family scans,
inspections, status changes, contact queries) while one process of each kind is killed
(SIGKILL) once and restarted. Every acknowledged check-in and status change is found exactly
once, no answer is a 500, and the counts per kind are printed.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio
import zxingcpp
from PIL import Image
from redis.asyncio import Redis

from services.embedded import free_port
from shared.settings import InfraSettings
from tests.conftest import Stack
from tests.e2e.test_story import Person, eventually
from tests.integration.deploy.conftest import (
    Process,
    _open_runtime_dir,
    _venuecode_command,
    nginx,  # noqa: F401 - the fixture, used by name
    nginx_check,
    render_gateway_config,
    service_environment,
    spawn,
    stop,
    wait_ready,
)
from tests.people import born_years_ago, mainland_id

REPLICAS = {"registry": 1, "checkin": 3, "status": 2, "tracing": 2}
LOAD_S = 60.0
# Kill one process of each kind, spread over the run, and restart it this much later.
KILLS = (("checkin", 10.0), ("status", 22.0), ("tracing", 34.0), ("registry", 46.0))
RESTART_AFTER_S = 3.0
CITIZENS = 32
WORKERS = 4
PAUSE_S = 0.5  # per worker between operations: ~8 a second in all (checkin caps 30 scans a person in 10 min)
RETRY_FOR_S = 30.0  # a client retries a failed request (same Idempotency-Key) this long
SETTLE_S = 120.0  # for tracing to store every acknowledged check-in after the load


@dataclass
class Fleet:
    base_url: str
    env: dict[str, str]
    ports: dict[str, list[int]]
    logs: Path
    processes: dict[tuple[str, int], Process] = field(default_factory=dict)
    infra: InfraSettings | None = None
    database_url: str = ""

    async def start(self, service: str, index: int) -> None:
        port = self.ports[service][index]
        process = spawn(
            f"{service}-{index}",
            _venuecode_command(service, port),
            self.logs / f"{service}-{index}.log",
            self.env,
        )
        self.processes[(service, index)] = process
        await wait_ready(process, f"http://127.0.0.1:{port}/api/{service}/readyz")

    def kill(self, service: str, index: int) -> None:
        """SIGKILL, as a node failing: no shutdown, no offset commit, connections dropped."""
        process = self.processes[(service, index)]
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait(10)


def _upstream(ports: list[int]) -> str:
    # The template has one `server ${X_UPSTREAM} max_fails=3 fail_timeout=5s;` per service: the
    # extra replicas are spliced in as further server lines of the same upstream.
    return " max_fails=3 fail_timeout=5s; server ".join(f"127.0.0.1:{p}" for p in ports)


@pytest_asyncio.fixture
async def fleet(stack: Stack, state_dir: Path, nginx: str, tmp_path: Path) -> AsyncIterator[Fleet]:  # noqa: F811
    unique = uuid.uuid4().hex[:12]
    database = f"vc_test_fleet_{unique}"
    admin = await asyncpg.connect(stack.postgres_url)
    await admin.execute(f'CREATE DATABASE "{database}"')
    env = service_environment(stack, state_dir, database, f"tfl{unique}")
    env.update(
        # Short jobs so that relays and refills run within the test's minute.
        VENUECODE_STATUS_OUTBOX_RELAY_INTERVAL_S="1",
        VENUECODE_REGISTRY_OUTBOX_RELAY_INTERVAL_S="1",
    )
    runtime = _open_runtime_dir()
    logs = tmp_path / "logs"
    logs.mkdir()
    ports = {service: [free_port() for _ in range(n)] for service, n in REPLICAS.items()}
    gateway_port = free_port()
    fleet = Fleet(f"http://127.0.0.1:{gateway_port}", env, ports, logs)
    fleet.database_url = env["VENUECODE_POSTGRES_URL"]
    fleet.infra = InfraSettings(
        env="test",
        postgres_url=env["VENUECODE_POSTGRES_URL"],
        redis_url=stack.redis_url,
        kafka_bootstrap=stack.kafka_bootstrap,
        kafka_namespace=env["VENUECODE_KAFKA_NAMESPACE"],
        redis_key_prefix=env["VENUECODE_REDIS_KEY_PREFIX"],
        state_dir=state_dir,
    )
    proxy: Process | None = None
    try:
        await fleet.start("registry", 0)  # migrations and topics first, as the init job would
        await asyncio.gather(
            *(fleet.start(s, i) for s, n in REPLICAS.items() if s != "registry" for i in range(n))
        )
        conf = render_gateway_config(
            runtime, f"127.0.0.1:{gateway_port}", {s: _upstream(p) for s, p in ports.items()}
        )
        checked = nginx_check(nginx, conf)
        assert checked.returncode == 0, checked.stderr
        command = [nginx, "-e", "stderr", "-p", str(runtime), "-c", str(conf), "-g", "daemon off;"]
        proxy = spawn("nginx", command, logs / "nginx.log")
        await wait_ready(proxy, f"{fleet.base_url}/__gateway/healthz")
        yield fleet
    finally:
        if proxy is not None:
            stop(proxy)
        for process in fleet.processes.values():
            stop(process)
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
        redis = Redis.from_url(stack.redis_url)
        try:
            prefix = env["VENUECODE_REDIS_KEY_PREFIX"]
            keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=500)]
            if keys:
                await redis.delete(*keys)
        finally:
            await redis.aclose()


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


def _client(base_url: str, n: int) -> httpx.AsyncClient:
    """A client from its own 127.x address, so the gateway's per-address limits see many phones."""
    transport = httpx.AsyncHTTPTransport(local_address=f"127.0.{n // 250 + 1}.{n % 250 + 1}")
    return httpx.AsyncClient(base_url=base_url, timeout=10.0, transport=transport)


async def _seed(fleet: Fleet, clients: list[httpx.AsyncClient]) -> dict[str, Any]:
    from services.registry.commands import grant_role

    admin = await Person(clients[0], "陳大文", mainland_id(born_years_ago(40))).register()
    venue = await admin.call(
        "POST",
        "/api/registry/v1/venues",
        json={"region_code": "440106", "name": "天河城購物中心", "category": "supermarket"},
    )
    assert venue.status_code == 201, venue.text
    venue_id = venue.json()["venue_id"]
    inspector = await Person(clients[1], "李小龍", mainland_id(born_years_ago(30))).register()
    bound = await inspector.call(
        "POST",
        "/api/registry/v1/inspector-bindings",
        json={"declaration_code": venue.json()["declaration_code"]},
    )
    assert bound.status_code == 201, bound.text
    png = await inspector.call("GET", f"/api/registry/v1/venues/{venue_id}/code", params={"format": "png"})
    assert png.status_code == 200, png.text
    token = urlsplit(zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))[0].text).path.removeprefix(
        "/c/"
    )
    operator = await Person(clients[2], "周運營", mainland_id(born_years_ago(45))).register()
    assert fleet.infra is not None
    await grant_role(fleet.infra, operator.id_number, "operator")
    await operator.sign_in()
    authority = await Person(clients[3], "衛生局", mainland_id(born_years_ago(50))).register()
    epidemiologist = await Person(clients[4], "流調員", mainland_id(born_years_ago(33))).register()
    for person, role in ((authority, "health_authority"), (epidemiologist, "epidemiologist")):
        granted = await operator.call(
            "POST", "/api/registry/v1/role-grants", json={"person_id": person.person_id, "role": role}
        )
        assert granted.status_code == 201, granted.text
        await person.sign_in()
    citizens, children = [], []
    for n in range(CITIZENS):
        citizen = await Person(clients[5 + n], f"市民{n}", mainland_id(born_years_ago(20 + n))).register()
        child = await citizen.call(
            "POST",
            "/api/registry/v1/dependents",
            json={
                "name": f"小{n}",
                "id_kind": "mainland_id",
                "id_number": mainland_id(born_years_ago(6)),
                "relation": "child",
            },
        )
        assert child.status_code == 201, child.text
        citizens.append(citizen)
        children.append(child.json()["person_id"])
    return {
        "venue_id": venue_id,
        "venue_token": token,
        "inspector": inspector,
        "authority": authority,
        "epidemiologist": epidemiologist,
        "citizens": citizens,
        "children": children,
    }


@pytest.mark.timeout(600)  # eight processes start on a shared 2-core machine, then a minute of load
async def test_the_platform_under_replicas_loses_and_doubles_nothing_when_a_process_of_each_kind_dies(
    fleet: Fleet,
) -> None:
    clients = [_client(fleet.base_url, n) for n in range(5 + CITIZENS)]
    try:
        world = await _seed(fleet, clients)
        await _run(fleet, world)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def _run(fleet: Fleet, world: dict[str, Any]) -> None:
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
            fleet.kill(service, 0)
            await asyncio.sleep(RESTART_AFTER_S)
            await fleet.start(service, 0)

    await asyncio.gather(chaos(), *(worker() for _ in range(WORKERS)))
    await _verify(fleet, tally)


async def _verify(fleet: Fleet, tally: Tally) -> None:
    conn = await asyncpg.connect(fleet.database_url)
    try:

        async def stored() -> dict[str, int] | None:
            rows = await conn.fetch(
                "SELECT checkin_id::text AS id, count(*) AS n FROM tracing.checkins"
                " WHERE checkin_id = ANY($1::uuid[]) GROUP BY 1",
                list(tally.checkins),
            )
            found = {row["id"]: int(row["n"]) for row in rows}
            return found if len(found) == len(tally.checkins) else None

        checkins = await eventually(stored, SETTLE_S)
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

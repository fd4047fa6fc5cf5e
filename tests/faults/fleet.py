"""The fleet of the replica fault test: `venuecode serve` processes of every service behind real
nginx (deploy/gateway's config, as tests/integration/deploy runs it), and a seeded world: a venue
and its inspector, an operator, a health authority, an epidemiologist, citizens with a child each.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest_asyncio
from redis.asyncio import Redis

from services.embedded import free_port
from shared.settings import InfraSettings
from tests.conftest import Stack
from tests.e2e.test_story import Person
from tests.integration.deploy.conftest import (
    Process,
    _open_runtime_dir,
    _venuecode_command,
    nginx,  # noqa: F401 - the fixture, used by name
    nginx_check,
    render_gateway_config,
    service_environment,
    spawn,
    stop_all,
    wait_ready,
)
from tests.people import born_years_ago, mainland_id
from tests.qr import qr_text

REPLICAS = {"registry": 1, "checkin": 3, "status": 2, "tracing": 2}
CITIZENS = 32


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
        stop_all([*([proxy] if proxy is not None else []), *fleet.processes.values()])
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


def client_from(base_url: str, n: int) -> httpx.AsyncClient:
    """A client from its own 127.x address, so the gateway's per-address limits see many phones."""
    transport = httpx.AsyncHTTPTransport(local_address=f"127.0.{n // 250 + 1}.{n % 250 + 1}")
    return httpx.AsyncClient(base_url=base_url, timeout=10.0, transport=transport)


async def seed(fleet: Fleet, clients: list[httpx.AsyncClient]) -> dict[str, Any]:
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
    token = urlsplit(qr_text(png.content)).path.removeprefix("/c/")
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

"""What the fault tests share: the apps on private servers, a seeded world, scans and the counts.

The world is seeded with registry events on the private broker (people and
venues), as the registry would publish them; check-ins go through the checkin
API exactly as phones send them; what tracing stored is read from its table.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pydantic import BaseModel

from shared.auth import AccessTokens
from shared.events import (
    CHECKINS_TOPIC,
    REGISTRY_TOPIC,
    PersonRegistered,
    PersonRegisteredData,
    VenueRegistered,
    VenueRegisteredData,
    encode,
    topic,
)
from shared.keys import load_keys
from shared.settings import InfraSettings
from shared.tokens import TokenSigner
from tests.waiting import eventually

T = TypeVar("T")
ORIGIN = "http://testserver"
# Every wait in these tests is bounded; 60 s covers a consumer group rejoining on tansu
# (JoinGroup answers after ~half the 10 s session timeout) plus a restarted server.
DEADLINE_S = 60.0
# Check-ins go out this many at a time, like a crowd at several doors.
CONCURRENCY = 16
# checkin caps a person at 30 check-ins in 10 minutes (issue 5): stay well below.
SCANS_PER_PERSON = 20


def private_infra(
    infra: InfraSettings, *, kafka: str, redis: str, postgres: str | None = None
) -> InfraSettings:
    """This test's settings pointed at its private servers (Postgres: the test's database unless given)."""
    update: dict[str, Any] = {"kafka_bootstrap": kafka, "redis_url": redis}
    if postgres is not None:
        update["postgres_url"] = postgres
    return infra.model_copy(update=update)


class OneOrigin(httpx.AsyncBaseTransport):
    """Routes each request to the app that owns its path prefix, as the gateway does."""

    def __init__(self, apps: Sequence[tuple[str, FastAPI]]) -> None:
        self._routes = [(prefix, httpx.ASGITransport(app=app)) for prefix, app in apps]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for prefix, transport in self._routes:
            if request.url.path.startswith(prefix):
                return await transport.handle_async_request(request)
        raise AssertionError(f"no app for {request.url.path}")


@asynccontextmanager
async def running(*apps: tuple[str, FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    """Run the apps' lifespans (pools, Redis, broker, subscribers) behind one in-process origin."""
    async with AsyncExitStack() as stack:
        for _, app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        transport = OneOrigin(apps)
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN, timeout=30) as client:
            yield client


def checkin_app(infra: InfraSettings) -> tuple[str, FastAPI]:
    from services.checkin.app import create_app
    from services.checkin.config import Settings

    return "/api/checkin", create_app(Settings(infra=infra))


def status_app(infra: InfraSettings, **knobs: Any) -> tuple[str, FastAPI]:
    from services.status.app import create_app
    from services.status.config import Settings

    return "/api/status", create_app(Settings(infra=infra, **knobs))


def tracing_app(infra: InfraSettings, **knobs: Any) -> tuple[str, FastAPI]:
    from services.tracing.app import create_app
    from services.tracing.config import Settings

    return "/api/tracing", create_app(Settings(infra=infra, **knobs))


@dataclass
class World:
    """Registered people and venues, with what a phone needs to scan: tokens and venue codes."""

    infra: InfraSettings
    people: list[UUID]
    venues: list[UUID]
    tokens: dict[UUID, str] = field(default_factory=dict)
    venue_tokens: dict[UUID, str] = field(default_factory=dict)

    def auth(self, person_id: UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[person_id]}"}


def make_world(infra: InfraSettings, people: int, venues: int) -> World:
    keys = load_keys(infra)
    access = AccessTokens(keys.jwt, infra.jwt_audience, 3600)
    signer = TokenSigner(keys.tokens)
    world = World(infra, [uuid.uuid4() for _ in range(people)], [uuid.uuid4() for _ in range(venues)])
    world.tokens = {p: access.issue(p, []) for p in world.people}
    world.venue_tokens = {v: signer.venue_token(v, 1) for v in world.venues}
    return world


def staff_token(infra: InfraSettings, person_id: UUID, *roles: str) -> dict[str, str]:
    token = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 3600).issue(person_id, roles)
    return {"Authorization": f"Bearer {token}"}


def registry_events(world: World) -> list[BaseModel]:
    events: list[BaseModel] = [
        PersonRegistered(
            data=PersonRegisteredData(
                person_id=p,
                id_kind="passport",
                birth_date=None,
                masked_name="張*明",
                masked_id=f"E{i:03d}*****{i % 10}",
                id_digest=f"{i:064x}",
                name_digest=f"{i + 1:064x}",
            )
        )
        for i, p in enumerate(world.people)
    ]
    events += [
        VenueRegistered(
            data=VenueRegisteredData(
                venue_id=v,
                region_code="440106",
                name=f"Fault venue {i}",
                category="market",
                poster_version=1,
            )
        )
        for i, v in enumerate(world.venues)
    ]
    return events


async def send(bootstrap: str, name: str, events: Sequence[BaseModel | bytes], key: bytes) -> None:
    """Publish events to a topic (full name) and wait for the broker's acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        pending = [
            await producer.send(name, e if isinstance(e, bytes) else encode(e), key=key) for e in events
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def seed(world: World, client: httpx.AsyncClient) -> None:
    """Publish the world's registry events and wait until checkin accepts a scan at every venue."""
    infra = world.infra
    await send(
        infra.kafka.bootstrap, topic(REGISTRY_TOPIC, infra.kafka.namespace), registry_events(world), b"w"
    )
    probe_person = world.people[-1]

    async def every_venue_known() -> bool:
        for venue in world.venues:
            answer = await client.post(
                "/api/checkin/v1/checkouts",
                json={"venue_token": world.venue_tokens[venue]},
                headers=world.auth(probe_person),
            )
            if answer.status_code != 201:
                return False
        return True

    await eventually(every_venue_known, timeout_s=60, what="checkin knows every venue")
    conn = await asyncpg.connect(infra.postgres_url)
    try:

        async def everyone_known() -> bool:
            count = await conn.fetchval("SELECT count(*) FROM checkin.persons")
            return bool(count >= len(world.people))

        await eventually(everyone_known, timeout_s=60, what="checkin knows every person")
    finally:
        await conn.close()


@dataclass
class Tally:
    """What the check-in API answered: acknowledged check-in ids, and every status seen."""

    acknowledged: set[UUID] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    colours: Counter[str] = field(default_factory=Counter)

    def note(self, answer: httpx.Response) -> None:
        self.statuses[answer.status_code] += 1
        if answer.status_code in (200, 201):
            for row in answer.json()["checkins"]:
                self.acknowledged.add(UUID(row["checkin_id"]))
                self.colours[row["colour"]] += 1


async def scan(
    client: httpx.AsyncClient,
    world: World,
    person: UUID,
    venue: UUID,
    key: str,
    scanned_at: str | None = None,
) -> httpx.Response:
    """One scan; ``scanned_at`` is what the page sends on every attempt of it (scantime.py)."""
    body = {"venue_token": world.venue_tokens[venue]}
    if scanned_at is not None:
        body["scanned_at"] = scanned_at
    return await client.post(
        "/api/checkin/v1/scans", json=body, headers={**world.auth(person), "Idempotency-Key": key}
    )


def plan(world: World, count: int, tag: str) -> list[tuple[UUID, UUID, str]]:
    """``count`` scans spread over people and venues, each with its own Idempotency-Key."""
    assert count <= len(world.people) * SCANS_PER_PERSON, "too few people for the checkin caps"
    return [
        (world.people[i % len(world.people)], world.venues[i % len(world.venues)], f"{tag}-{i}")
        for i in range(count)
    ]


async def scan_all(
    client: httpx.AsyncClient, world: World, scans: Sequence[tuple[UUID, UUID, str]], tally: Tally
) -> None:
    """Send the scans, CONCURRENCY at a time, noting every answer."""
    queue = list(reversed(scans))

    async def worker() -> None:
        while queue:
            person, venue, key = queue.pop()
            tally.note(await scan(client, world, person, venue, key))

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def stored(postgres_url: str) -> Counter[UUID]:
    """How many rows tracing holds for each checkin_id (more than 1 is a duplicate)."""
    conn = await asyncpg.connect(postgres_url, timeout=5)
    try:
        if await conn.fetchval("SELECT to_regclass('tracing.checkins')") is None:
            return Counter()
        rows = await conn.fetch("SELECT checkin_id, count(*) AS n FROM tracing.checkins GROUP BY checkin_id")
    finally:
        await conn.close()
    return Counter({row["checkin_id"]: int(row["n"]) for row in rows})


async def stored_colours(postgres_url: str, ids: Sequence[UUID]) -> dict[UUID, str]:
    conn = await asyncpg.connect(postgres_url, timeout=5)
    try:
        rows = await conn.fetch(
            "SELECT checkin_id, colour_at_checkin FROM tracing.checkins WHERE checkin_id = ANY($1::uuid[])",
            list(ids),
        )
    finally:
        await conn.close()
    return {row["checkin_id"]: row["colour_at_checkin"] for row in rows}


async def drained(
    postgres_url: str, acknowledged: set[UUID], deadline_s: float = DEADLINE_S
) -> Counter[UUID]:
    """Wait until tracing stored every acknowledged check-in; the rows per checkin_id."""

    async def all_there() -> Counter[UUID] | None:
        rows = await stored(postgres_url)
        return rows if acknowledged <= rows.keys() else None

    try:
        found = await eventually(
            all_there, timeout_s=deadline_s, what="tracing stored every acknowledged check-in"
        )
    except AssertionError:
        found = await stored(postgres_url)
        report("(timed out)", acknowledged, found)
        raise
    return found


def report(name: str, acknowledged: set[UUID], found: Counter[UUID]) -> None:
    doubled = sum(1 for n in found.values() if n > 1)
    print(
        f"\n[faults] {name}: acknowledged={len(acknowledged)} found={len(found)}"
        f" rows={sum(found.values())} duplicates={doubled} missing={len(acknowledged - found.keys())}"
    )


def duplicates_seen() -> float:
    """Check-ins tracing has read and found stored already (its own metric, in this process)."""
    labels = {"service": "tracing", "topic": CHECKINS_TOPIC, "outcome": "duplicate"}
    return REGISTRY.get_sample_value("venuecode_events_consumed_total", labels) or 0.0


class DoubledCheckins(AssertionError):
    """Tracing holds more than one row for a checkin_id."""


def assert_exactly_once(name: str, acknowledged: set[UUID], found: Counter[UUID]) -> None:
    """Every acknowledged check-in is stored, nothing else is, and none twice."""
    report(name, acknowledged, found)
    assert not acknowledged - found.keys(), "an acknowledged check-in was lost"
    assert not found.keys() - acknowledged, "a check-in nobody acknowledged was stored"
    assert len(acknowledged) == len(found)
    doubled = [checkin_id for checkin_id, n in found.items() if n > 1]
    if doubled:
        raise DoubledCheckins(f"{len(doubled)} check-ins stored more than once, e.g. {doubled[0]}")

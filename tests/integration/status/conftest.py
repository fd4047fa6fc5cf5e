"""Fixtures for the status service against real Postgres, Redis and Kafka: the app, a manual clock,
access tokens, and registry events published the way the registry would."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI

from services.status.app import create_app
from services.status.config import Settings
from shared.auth import AccessTokens
from shared.events import (
    EVENT_ADAPTER,
    REGISTRY_TOPIC,
    STATUS_TOPIC,
    GuardianLinked,
    GuardianLinkedData,
    InspectorBindingData,
    InspectorBound,
    PersonRegistered,
    PersonRegisteredData,
    StatusChanged,
    decode,
    topic,
)
from shared.kafka import publish
from shared.keys import load_keys
from shared.pii import birth_date_of, mask_id, mask_name
from shared.settings import InfraSettings
from tests.people import born_years_ago, mainland_id
from tests.waiting import eventually

T = TypeVar("T")


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class Registered:
    person_id: UUID
    name: str
    id_number: str
    masked_name: str
    masked_id: str


@dataclass
class StatusHarness:
    """The running app with helpers to act as the registry and as callers."""

    app: FastAPI
    client: httpx.AsyncClient
    infra: InfraSettings
    clock: ManualClock
    tokens: AccessTokens
    people: list[Registered] = field(default_factory=list)

    def auth(self, person_id: UUID, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.issue(person_id, roles)}"}

    async def publish_registry(self, event: Any, key: UUID) -> None:
        runtime = self.app.state.services.runtime
        await publish(runtime.router, self.infra.kafka, REGISTRY_TOPIC, [event], key=str(key).encode())

    async def register(self, name: str = "張小明", born: date | None = None) -> Registered:
        """Publish person.registered and wait until the identity read model holds it."""
        number = mainland_id(born or born_years_ago(30))
        vault = self.app.state.services.runtime.vault
        person = Registered(uuid4(), name, number, mask_name(name), mask_id(number))
        event = PersonRegistered(
            data=PersonRegisteredData(
                person_id=person.person_id,
                id_kind="mainland_id",
                birth_date=birth_date_of("mainland_id", number),
                masked_name=person.masked_name,
                masked_id=person.masked_id,
                id_digest=vault.id_digest("mainland_id", number),
                name_digest=vault.name_digest(name),
            )
        )
        await self.publish_registry(event, person.person_id)
        store = self.app.state.services.store
        await eventually(lambda: store.person(person.person_id))
        return person

    async def link_guardian(self, guardian: UUID, dependent: UUID) -> None:
        event = GuardianLinked(
            data=GuardianLinkedData(guardian_id=guardian, person_id=dependent, relation="child")
        )
        await self.publish_registry(event, dependent)
        store = self.app.state.services.store
        await eventually(lambda: store.guards(guardian, dependent))

    async def bind_inspector(self, person_id: UUID, venue_id: UUID | None = None) -> None:
        venue = venue_id or uuid4()
        event = InspectorBound(data=InspectorBindingData(venue_id=venue, person_id=person_id))
        await self.publish_registry(event, venue)
        store = self.app.state.services.store
        await eventually(lambda: store.is_inspector(person_id))

    async def topic_events(
        self, name: str, until: Callable[[list[bytes]], bool], timeout_s: float = 15.0
    ) -> list[bytes]:
        """Every message on one of this test's topics, read from the start until ``until`` holds."""
        consumer = AIOKafkaConsumer(
            topic(name, self.infra.kafka.namespace),
            bootstrap_servers=self.infra.kafka.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
        )
        await consumer.start()
        seen: list[bytes] = []
        try:
            deadline = time.monotonic() + timeout_s
            while not until(seen):
                if time.monotonic() > deadline:
                    raise AssertionError(f"expected messages on {name} did not arrive: {len(seen)} seen")
                batches = await consumer.getmany(timeout_ms=200)
                seen.extend(record.value for records in batches.values() for record in records)
        finally:
            await consumer.stop()
        return seen

    async def status_changes(self, person_id: UUID, count: int) -> list[StatusChanged]:
        """The status.changed events of one person, once at least ``count`` arrived."""

        def of_person(raw: list[bytes]) -> list[StatusChanged]:
            events = [decode(r, EVENT_ADAPTER) for r in raw]
            return [e for e in events if isinstance(e, StatusChanged) and e.data.person_id == person_id]

        raw = await self.topic_events(STATUS_TOPIC, lambda seen: len(of_person(seen)) >= count)
        return sorted(of_person(raw), key=lambda e: e.data.version)

    async def put_status(self, person_id: UUID, **body: Any) -> httpx.Response:
        authority = self.auth(uuid4(), "health_authority")
        return await self.client.put(
            f"/api/status/v1/persons/{person_id}/status", json=body, headers=authority
        )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def status_settings(infra: InfraSettings) -> Settings:
    # The sweep runs only when a test calls it: expiry is driven by the manual clock.
    return Settings(
        infra=infra,
        sweep_interval_s=3600,
        cache_check_interval_s=0.1,
    )


@pytest.fixture
async def harness(
    status_settings: Settings, infra: InfraSettings, clock: ManualClock, serve: Any
) -> AsyncIterator[StatusHarness]:
    app = create_app(status_settings, clock=clock)
    tokens = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 3600)
    async with serve(app) as client:
        yield StatusHarness(app, client, infra, clock, tokens)

"""Helpers for the checkin integration tests: registry events in, check-in events out, tokens."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from pydantic import BaseModel

from services.checkin.services import Services
from shared.auth import AccessTokens
from shared.events import (
    CHECKIN_EVENT_ADAPTER,
    CHECKINS_TOPIC,
    REGISTRY_TOPIC,
    STATUS_TOPIC,
    CheckinEvent,
    CheckinRecorded,
    GuardianLinked,
    GuardianLinkedData,
    InspectorBindingData,
    InspectorBound,
    PersonRegistered,
    PersonRegisteredData,
    VenueRegistered,
    VenueRegisteredData,
    decode,
    topic,
)
from shared.kafka import publish
from shared.keys import load_keys
from shared.runtime import Runtime
from shared.settings import InfraSettings
from tests.waiting import eventually

T = TypeVar("T")


def bearer(infra: InfraSettings, person_id: UUID, roles: Sequence[str] = ()) -> dict[str, str]:
    token = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 3600).issue(person_id, roles)
    return {"Authorization": f"Bearer {token}"}


def runtime(app: FastAPI) -> Runtime:
    return services(app).runtime


def services(app: FastAPI) -> Services:
    value: Services = app.state.services
    return value


async def send_registry(app: FastAPI, events: Sequence[BaseModel], key: bytes = b"k") -> None:
    rt = runtime(app)
    await publish(rt.router, rt.infra.kafka, REGISTRY_TOPIC, events, key=key)


async def send_status(app: FastAPI, events: Sequence[BaseModel], key: bytes = b"k") -> None:
    """Publish onto this test's status topic, as the status service would (keyed by person)."""
    rt = runtime(app)
    await publish(rt.router, rt.infra.kafka, STATUS_TOPIC, events, key=key)


async def paper_serial(app: FastAPI, person_id: UUID) -> int | None:
    """The highest paper-code serial the checkin read model holds for a person."""
    pool = runtime(app).pool
    assert pool is not None
    serial: int | None = await pool.fetchval(
        "SELECT serial FROM checkin.paper_serials WHERE person_id = $1", person_id
    )
    # Inspections read the serial from memory: forget what changed, as the poll does.
    await services(app).memory.refresh()
    return serial


async def applied(app: FastAPI, events: Sequence[BaseModel]) -> None:
    """Wait until the read model has handled every one of ``events``."""
    wanted = [e.event_id for e in events]  # type: ignore[attr-defined]
    pool = runtime(app).pool
    assert pool is not None

    async def probe() -> bool:
        count = await pool.fetchval(
            "SELECT count(*) FROM checkin.processed_events WHERE event_id = ANY($1::uuid[])", wanted
        )
        return bool(count == len(wanted))

    await eventually(probe)
    # And the scans' in-process copies have forgotten what the events changed (as the
    # process's own poll does within VENUECODE_CHECKIN_READMODEL_POLL_S).
    await services(app).memory.refresh()


def person_registered(person_id: UUID, masked_name: str = "張*明") -> PersonRegistered:
    return PersonRegistered(
        data=PersonRegisteredData(
            person_id=person_id,
            id_kind="mainland_id",
            birth_date=None,
            masked_name=masked_name,
            masked_id="4401**********123X",
            id_digest="d" * 64,
            name_digest="n" * 64,
        )
    )


@dataclass
class World:
    """A venue with an administrator, an inspector, a citizen and the citizen's child."""

    venue_id: UUID
    venue_name: str
    admin: UUID
    inspector: UUID
    citizen: UUID
    child: UUID
    stranger: UUID


async def build_world(app: FastAPI, poster_version: int = 1) -> World:
    world = World(uuid.uuid4(), "Harbour Market 海港街市", *(uuid.uuid4() for _ in range(5)))
    events: list[BaseModel] = [
        *(
            person_registered(p, n)
            for p, n in [
                (world.admin, "王*"),
                (world.inspector, "李*華"),
                (world.citizen, "張*明"),
                (world.child, "張*兒"),
                (world.stranger, "陳*"),
            ]
        ),
        GuardianLinked(
            data=GuardianLinkedData(guardian_id=world.citizen, person_id=world.child, relation="child")
        ),
        VenueRegistered(
            data=VenueRegisteredData(
                venue_id=world.venue_id,
                region_code="440106",
                name=world.venue_name,
                category="market",
                poster_version=poster_version,
                administrator_id=world.admin,
            )
        ),
        InspectorBound(data=InspectorBindingData(venue_id=world.venue_id, person_id=world.inspector)),
    ]
    await send_registry(app, events)
    await applied(app, events)
    return world


def venue_token(app: FastAPI, venue_id: UUID, poster_version: int = 1) -> str:
    return runtime(app).signer.venue_token(venue_id, poster_version)


async def checkin_events(infra: InfraSettings) -> list[CheckinEvent]:
    """Everything on this test's check-in topic up to its current end (no waiting for more)."""
    return [event for _, event in await keyed_checkin_events(infra)]


async def recorded(infra: InfraSettings) -> list[CheckinRecorded]:
    """Only the check-ins (``checkin.recorded``) on this test's check-in topic."""
    return [e for e in await checkin_events(infra) if isinstance(e, CheckinRecorded)]


async def keyed_checkin_events(infra: InfraSettings) -> list[tuple[bytes | None, CheckinEvent]]:
    """The check-in topic's messages with their keys, read to the topic's current end."""
    return [(k, decode(v, CHECKIN_EVENT_ADAPTER)) for k, v in await read_topic(infra, CHECKINS_TOPIC)]


async def read_topic(
    infra: InfraSettings, base: str, partitions: int | None = None
) -> list[tuple[bytes | None, bytes]]:
    """Every (key, value) of one namespaced topic up to its current end offsets."""
    name = topic(base, infra.kafka.namespace)
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        count = infra.kafka.partitions if partitions is None else partitions
        wanted = [TopicPartition(name, p) for p in range(count)]
        consumer.assign(wanted)
        await consumer.seek_to_beginning(*wanted)
        ends = await consumer.end_offsets(wanted)
        found: list[tuple[bytes | None, bytes]] = []
        deadline = time.monotonic() + 15
        while [tp for tp in wanted if await consumer.position(tp) < ends[tp]]:
            assert time.monotonic() < deadline, "could not read the check-in topic to its end"
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                found.extend((r.key, r.value) for r in records if r.value is not None)
        return found
    finally:
        await consumer.stop()


def body_of(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = response.json()
    return data

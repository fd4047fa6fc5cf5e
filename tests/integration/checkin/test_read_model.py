"""The registry read model: idempotent by event id, ignores other types, parks poison in the DLQ."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from shared.events import (
    REGISTRY_TOPIC,
    STATUS_TOPIC,
    PaperCodeIssued,
    PaperCodeIssuedData,
    RoleGranted,
    RoleGrantedData,
    StatusChanged,
    StatusChangedData,
    VenueRenamed,
    VenueRenamedData,
    dlq,
)
from shared.settings import InfraSettings
from tests.integration.checkin.kit import (
    World,
    applied,
    bearer,
    body_of,
    paper_serial,
    read_topic,
    runtime,
    send_registry,
    send_status,
    venue_token,
)
from tests.waiting import eventually


async def test_a_redelivered_event_changes_nothing_and_renames_apply(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    renamed = VenueRenamed(data=VenueRenamedData(venue_id=world.venue_id, name="New Market 新街市"))
    await send_registry(app, [renamed, renamed], key=str(world.venue_id).encode())
    await applied(app, [renamed])
    pool = runtime(app).pool
    assert pool is not None
    handled = await pool.fetchval(
        "SELECT count(*) FROM checkin.processed_events WHERE event_id = $1", renamed.event_id
    )
    assert handled == 1
    response = await client.post(
        "/api/checkin/v1/scans",
        json={"venue_token": venue_token(app, world.venue_id)},
        headers={**bearer(infra, world.citizen), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert body_of(response)["venue"]["name"] == "New Market 新街市"


async def test_poison_goes_to_the_dlq_and_other_types_are_ignored(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    rt = runtime(app)
    poison = b'{"type": "venue.registered", "version": 9, "data": {}}'
    await rt.router.broker.publish(poison, f"{infra.kafka.namespace}{REGISTRY_TOPIC}", key=b"x")
    granted = RoleGranted(data=RoleGrantedData(person_id=world.citizen, role="operator"))
    marker = VenueRenamed(data=VenueRenamedData(venue_id=world.venue_id, name="After the poison"))
    await send_registry(app, [granted, marker], key=b"x")
    await applied(app, [marker])  # handled after the poison on the same partition: the stream moved on

    async def parked() -> list[tuple[bytes | None, bytes]]:
        found: list[tuple[bytes | None, bytes]] = await read_topic(infra, dlq(REGISTRY_TOPIC))
        return found

    [(_, value)] = await eventually(parked)
    assert value == poison
    assert rt.pool is not None
    ignored = await rt.pool.fetchval(
        "SELECT count(*) FROM checkin.processed_events WHERE event_id = $1", granted.event_id
    )
    assert ignored == 0


def issued(person_id: uuid.UUID, serial: int) -> PaperCodeIssued:
    return PaperCodeIssued(data=PaperCodeIssuedData(person_id=person_id, serial=serial))


async def test_paper_serials_keep_the_highest_and_a_late_or_replayed_event_never_lowers_it(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    key = str(world.child).encode()
    third, second = issued(world.child, 3), issued(world.child, 2)
    changed = StatusChanged(
        data=StatusChangedData(person_id=world.child, colour="red", reason="confirmed_case", version=1)
    )
    # The third card's event first, then the second card's arriving late, then the third again.
    await send_status(app, [third, changed, second, third], key=key)
    await applied(app, [third, second])
    assert await paper_serial(app, world.child) == 3
    later = issued(world.child, 4)
    await send_status(app, [later], key=key)
    await applied(app, [later])
    assert await paper_serial(app, world.child) == 4
    pool = runtime(app).pool
    assert pool is not None
    handled = await pool.fetch(
        "SELECT event_id FROM checkin.processed_events WHERE event_id = ANY($1::uuid[])",
        [third.event_id, changed.event_id],
    )
    # The redelivered event was handled once; status.changed is not this read model's business.
    assert [r["event_id"] for r in handled] == [third.event_id]
    assert await paper_serial(app, world.citizen) is None


async def test_poison_on_the_status_topic_goes_to_its_dlq(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    rt = runtime(app)
    poison = b'{"type": "paper_code.issued", "version": 1, "data": {"serial": "many"}}'
    await rt.router.broker.publish(poison, f"{infra.kafka.namespace}{STATUS_TOPIC}", key=b"x")
    marker = issued(world.citizen, 1)
    await send_status(app, [marker], key=b"x")
    await applied(app, [marker])  # handled after the poison on the same partition

    async def parked() -> list[tuple[bytes | None, bytes]]:
        found: list[tuple[bytes | None, bytes]] = await read_topic(infra, dlq(STATUS_TOPIC))
        return found

    [(_, value)] = await eventually(parked)
    assert value == poison

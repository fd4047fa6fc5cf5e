"""The status-commands consumer: applies status.set once, refuses stale commands, parks poison."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from services.status.models import StatusRecord
from shared.colours import read_colours
from shared.events import (
    STATUS_COMMANDS_TOPIC,
    StatusChanged,
    StatusChangedData,
    StatusSet,
    StatusSetData,
    dlq,
    encode,
    topic,
)
from shared.kafka import publish
from tests.integration.status.conftest import StatusHarness
from tests.waiting import eventually


def command(person_id: UUID, colour: str, reason: str, **envelope: object) -> StatusSet:
    data = StatusSetData(person_id=person_id, colour=colour, reason=reason, requested_by=uuid4())  # type: ignore[arg-type]
    return StatusSet(data=data, **envelope)  # type: ignore[arg-type]


async def send(harness: StatusHarness, person_id: UUID, *events: object) -> None:
    router = harness.app.state.services.runtime.router
    await publish(
        router, harness.infra.kafka, STATUS_COMMANDS_TOPIC, list(events), key=str(person_id).encode()
    )  # type: ignore[arg-type]


async def at_version(harness: StatusHarness, person_id: UUID, version: int) -> StatusRecord:
    store = harness.app.state.services.store

    async def reached() -> StatusRecord | None:
        record = await store.current(person_id)
        return record if record is not None and record.version >= version else None

    return await eventually(reached)


async def test_command_sets_colour_cache_and_event(harness: StatusHarness) -> None:
    person = await harness.register()
    await send(harness, person.person_id, command(person.person_id, "yellow", "close_contact"))
    record = await at_version(harness, person.person_id, 1)
    assert (record.colour, record.reason) == ("yellow", "close_contact")
    (event,) = await harness.status_changes(person.person_id, 1)
    assert event.data.colour == "yellow"
    runtime = harness.app.state.services.runtime
    cached = await read_colours(runtime.redis, runtime.redis_prefix, [person.person_id])
    assert cached[person.person_id].colour == "yellow"


async def test_replayed_command_changes_nothing(harness: StatusHarness) -> None:
    person_id = uuid4()  # commands do not wait for the identity read model
    first = command(person_id, "yellow", "close_contact")
    later = command(person_id, "red", "confirmed_case", occurred_at=first.occurred_at + timedelta(seconds=1))
    # The replay sits between the two on the same partition: had it applied, the version would be 3.
    await send(harness, person_id, first, first, later)
    record = await at_version(harness, person_id, 2)
    assert (record.colour, record.version) == ("red", 2)
    history = await harness.app.state.services.store.history(person_id)
    assert [h.version for h in history] == [1, 2]


async def test_late_command_cannot_overwrite_newer_status(harness: StatusHarness) -> None:
    person_id = uuid4()
    newer = command(person_id, "red", "confirmed_case")
    older = command(person_id, "yellow", "close_contact", occurred_at=newer.occurred_at - timedelta(hours=1))
    sentinel = command(person_id, "red", "asymptomatic", occurred_at=newer.occurred_at + timedelta(seconds=1))
    await send(harness, person_id, newer, older, sentinel)
    record = await at_version(harness, person_id, 2)
    assert (record.reason, record.version) == ("asymptomatic", 2)
    history = await harness.app.state.services.store.history(person_id)
    assert [h.reason for h in history] == ["confirmed_case", "asymptomatic"]


async def test_command_older_than_authority_change_is_ignored(harness: StatusHarness) -> None:
    person = await harness.register()
    late = command(
        person.person_id, "yellow", "close_contact", occurred_at=harness.clock.now() - timedelta(minutes=5)
    )
    assert (
        await harness.put_status(person.person_id, colour="red", reason="confirmed_case")
    ).status_code == 200
    sentinel = command(
        person.person_id, "red", "suspected_case", occurred_at=harness.clock.now() + timedelta(seconds=1)
    )
    await send(harness, person.person_id, late, sentinel)
    record = await at_version(harness, person.person_id, 2)
    assert (record.reason, record.version) == ("suspected_case", 2)


async def test_poison_goes_to_dlq_and_others_are_ignored(harness: StatusHarness) -> None:
    person_id = uuid4()
    router = harness.app.state.services.runtime.router
    target = topic(STATUS_COMMANDS_TOPIC, harness.infra.kafka.namespace)
    await router.broker.publish(b"not json at all", target, key=str(person_id).encode())
    bad_reason = command(person_id, "red", "bad_reason")
    not_a_command = StatusChanged(
        data=StatusChangedData(person_id=person_id, colour="red", reason="x", version=9)
    )
    await router.broker.publish(encode(bad_reason), target, key=str(person_id).encode())
    await send(harness, person_id, not_a_command, command(person_id, "yellow", "risk_area_visit"))
    record = await at_version(harness, person_id, 1)
    assert (record.colour, record.version) == ("yellow", 1)
    parked = await harness.topic_events(dlq(STATUS_COMMANDS_TOPIC), lambda seen: len(seen) >= 2)
    # The DLQ is not keyed, so the two may sit on different partitions in either order.
    assert b"not json at all" in parked
    assert any(b"bad_reason" in p for p in parked)


async def test_command_never_lowers_a_colour_in_force(harness: StatusHarness) -> None:
    person_id = uuid4()
    red = command(person_id, "red", "confirmed_case")
    # A newer notification naming the case as someone's close contact must not turn it yellow.
    lower = command(person_id, "yellow", "close_contact", occurred_at=red.occurred_at + timedelta(seconds=1))
    sentinel = command(person_id, "red", "asymptomatic", occurred_at=red.occurred_at + timedelta(seconds=2))
    await send(harness, person_id, red, lower, sentinel)
    record = await at_version(harness, person_id, 2)
    assert (record.colour, record.reason, record.version) == ("red", "asymptomatic", 2)
    history = await harness.app.state.services.store.history(person_id)
    assert [h.reason for h in history] == ["confirmed_case", "asymptomatic"]

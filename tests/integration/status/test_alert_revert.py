"""status.revert through Kafka: a withdrawn venue alert takes back its own changes and nothing else."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from shared.colours import read_colours
from shared.events import StatusRevert, StatusRevertData, StatusSet, StatusSetData
from tests.integration.status.conftest import StatusHarness
from tests.integration.status.test_commands import at_version, send
from tests.waiting import eventually


def alert_set(
    person_id: UUID, alert_id: UUID, colour: str = "yellow", reason: str = "risk_area_visit"
) -> StatusSet:
    data = StatusSetData(
        person_id=person_id,
        colour=colour,  # type: ignore[arg-type]
        reason=reason,
        requested_by=uuid4(),
        alert_id=alert_id,
    )
    return StatusSet(data=data)


def revert(alert_id: UUID) -> StatusRevert:
    return StatusRevert(data=StatusRevertData(alert_id=alert_id, requested_by=uuid4()))


async def test_revert_restores_what_the_alert_set_and_leaves_later_changes(harness: StatusHarness) -> None:
    alert = uuid4()
    fresh, red, contact, overtaken = [await harness.register() for _ in range(4)]
    store = harness.app.state.services.store
    later = harness.clock.now() + timedelta(days=7)
    # Before the alert: red is a confirmed case, contact a close contact until next week.
    await harness.put_status(red.person_id, colour="red", reason="confirmed_case")
    await harness.put_status(
        contact.person_id, colour="yellow", reason="close_contact", valid_until=later.isoformat()
    )
    for person in (fresh, red, contact, overtaken):
        await send(harness, person.person_id, alert_set(person.person_id, alert))
    await at_version(harness, fresh.person_id, 1)
    await at_version(harness, contact.person_id, 2)
    await at_version(harness, overtaken.person_id, 1)
    # Something else changes one of them after the alert did.
    await harness.put_status(overtaken.person_id, colour="red", reason="suspected_case")

    await send(harness, alert, revert(alert))

    restored = await at_version(harness, fresh.person_id, 2)
    assert (restored.colour, restored.reason, restored.valid_until) == ("green", "none", None)
    back = await store.current(contact.person_id)
    assert (back.colour, back.reason, back.version) == ("yellow", "close_contact", 3)
    assert back.valid_until == later
    kept = await store.current(red.person_id)  # the alert never lowered red: nothing to take back
    assert (kept.colour, kept.reason, kept.version) == ("red", "confirmed_case", 1)
    left = await store.current(overtaken.person_id)
    assert (left.colour, left.reason, left.version) == ("red", "suspected_case", 2)
    history = await store.history(fresh.person_id)
    assert [(h.colour, h.source) for h in history] == [("yellow", "command"), ("green", "revert")]
    changes = await harness.status_changes(fresh.person_id, 2)
    assert [(e.data.colour, e.data.version) for e in changes] == [("yellow", 1), ("green", 2)]
    runtime = harness.app.state.services.runtime
    cached = await read_colours(runtime.redis, runtime.redis_prefix, [fresh.person_id, contact.person_id])
    assert cached[fresh.person_id].colour == "green"
    assert cached[contact.person_id].colour == "yellow"


async def test_a_set_arriving_after_its_revert_changes_nothing(harness: StatusHarness) -> None:
    """The revert goes under the alert's key, the sets under each person's: order is not promised."""
    alert, person, sentinel = uuid4(), uuid4(), uuid4()
    store = harness.app.state.services.store
    await send(harness, alert, revert(alert))

    async def withdrawn() -> bool:
        async with store.unit() as unit:
            return await unit.alert_withdrawn(alert)

    await eventually(withdrawn)
    # The sentinel (another alert) follows the late command on the same partition.
    await send(harness, person, alert_set(person, alert), alert_set(sentinel, uuid4()))
    await at_version(harness, sentinel, 1)
    assert await store.current(person) is None
    assert await store.history(person) == []

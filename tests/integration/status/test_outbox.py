"""The outbox of status.changed: emptied after a confirmed publish, resent by the relay otherwise."""

from __future__ import annotations

from services.status.service import changed_event
from shared.events import encode
from tests.integration.status.conftest import StatusHarness


async def test_outbox_is_empty_after_a_change_was_announced(harness: StatusHarness) -> None:
    person = await harness.register()
    assert (
        await harness.put_status(person.person_id, colour="red", reason="confirmed_case")
    ).status_code == 200
    pool = harness.app.state.runtime.pool
    assert await pool.fetchval("SELECT count(*) FROM status.outbox") == 0


async def test_relay_sends_what_a_failed_publish_left(harness: StatusHarness) -> None:
    person = await harness.register()
    answer = await harness.put_status(person.person_id, colour="yellow", reason="close_contact")
    assert answer.status_code == 200
    services = harness.app.state.services
    record = await services.store.current(person.person_id)
    # As if the broker had not acknowledged: the event stays in the outbox after the commit.
    lost = changed_event(record)
    async with services.store.transaction() as conn:
        await services.store.queue_event(conn, person.person_id, encode(lost))
    assert await services.status.relay_outbox(older_than_s=60) == 0  # too fresh: maybe still in flight
    assert await services.status.relay_outbox(older_than_s=0) == 1
    events = await harness.status_changes(person.person_id, 2)
    assert lost.event_id in {e.event_id for e in events}
    assert await harness.app.state.runtime.pool.fetchval("SELECT count(*) FROM status.outbox") == 0

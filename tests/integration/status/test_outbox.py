"""The outbox of status events (status.changed, paper_code.issued): marked sent after a confirmed
publish, resent by the relay otherwise, and pruned once sent longer ago than the retention."""

from __future__ import annotations

import json
from uuid import UUID

from services.status.service import changed_event
from shared.events import (
    STATUS_EVENT_ADAPTER,
    STATUS_TOPIC,
    PaperCodeIssued,
    PaperCodeIssuedData,
    decode,
)
from tests.integration.status.conftest import StatusHarness

UNSENT = "SELECT count(*) FROM status.outbox WHERE sent_at IS NULL"


async def test_outbox_is_empty_after_a_change_was_announced(harness: StatusHarness) -> None:
    person = await harness.register()
    assert (
        await harness.put_status(person.person_id, colour="red", reason="confirmed_case")
    ).status_code == 200
    pool = harness.app.state.services.runtime.pool
    assert await pool.fetchval(UNSENT) == 0
    # Sent rows are kept for the retention ("was it ever sent?"), then pruned.
    assert await pool.fetchval("SELECT count(*) FROM status.outbox WHERE sent_at IS NOT NULL") >= 1
    outbox = harness.app.state.services.outbox
    assert await outbox.prune() == 0  # younger than the retention: kept
    assert await outbox.prune(older_than_s=0) >= 1
    assert await pool.fetchval("SELECT count(*) FROM status.outbox") == 0


async def test_relay_sends_what_a_failed_publish_left(harness: StatusHarness) -> None:
    person = await harness.register()
    answer = await harness.put_status(person.person_id, colour="yellow", reason="close_contact")
    assert answer.status_code == 200
    services = harness.app.state.services
    record = await services.store.current(person.person_id)
    # As if the broker had not acknowledged: the event stays in the outbox after the commit.
    lost = changed_event(record)
    async with services.store.unit() as unit:
        await unit.stage(STATUS_TOPIC, str(person.person_id).encode(), [lost])
    assert await services.outbox.relay(min_age_s=60) == 0  # too fresh: maybe still in flight
    assert await services.outbox.relay(min_age_s=0) == 1
    events = await harness.status_changes(person.person_id, 2)
    assert lost.event_id in {e.event_id for e in events}
    assert await harness.app.state.services.runtime.pool.fetchval(UNSENT) == 0


def _paper_events(raw: list[bytes], person_id: UUID) -> list[PaperCodeIssued]:
    events = [decode(r, STATUS_EVENT_ADAPTER) for r in raw]
    return [e for e in events if isinstance(e, PaperCodeIssued) and e.data.person_id == person_id]


async def test_every_printed_paper_code_is_announced_with_its_serial(harness: StatusHarness) -> None:
    person = await harness.register()
    for _ in range(2):
        printed = await harness.client.get(
            "/api/status/v1/paper-code", headers=harness.auth(person.person_id)
        )
        assert printed.status_code == 200
    raw = await harness.topic_events(
        STATUS_TOPIC, lambda seen: len(_paper_events(seen, person.person_id)) >= 2
    )
    issued = _paper_events(raw, person.person_id)
    assert [e.data.serial for e in issued] == [1, 2]
    assert await harness.app.state.services.runtime.pool.fetchval(UNSENT) == 0
    # An id and a number only: no name or identity number leaves with it.
    document = json.loads(next(r for r in raw if b"paper_code.issued" in r))
    assert set(document["data"]) == {"person_id", "serial"}


async def test_relay_sends_a_paper_code_issued_that_a_failed_publish_left(harness: StatusHarness) -> None:
    person = await harness.register()
    services = harness.app.state.services
    lost = PaperCodeIssued(data=PaperCodeIssuedData(person_id=person.person_id, serial=7))
    async with services.store.unit() as unit:
        await unit.stage(STATUS_TOPIC, str(person.person_id).encode(), [lost])
    assert await services.outbox.relay(min_age_s=0) == 1
    raw = await harness.topic_events(STATUS_TOPIC, lambda seen: bool(_paper_events(seen, person.person_id)))
    assert [e.event_id for e in _paper_events(raw, person.person_id)] == [lost.event_id]
    assert await harness.app.state.services.runtime.pool.fetchval(UNSENT) == 0

"""shared.outbox with an in-memory table: what goes out in one publish, in which order, and what
is marked sent when the broker acknowledged only part of a send."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import uuid4

import pytest
from pydantic import BaseModel

from shared.errors import Unavailable
from shared.events import STATUS_TOPIC, PaperCodeIssued, PaperCodeIssuedData
from shared.outbox import Outbox, OutboxTable, Staged
from tests.unit.status.fakes import FakeOutboxRows, ManualClock, RecordingPublisher


class RefusingKey(RecordingPublisher):
    """A broker whose partition of one key is away."""

    def __init__(self, topic: str, refused: bytes) -> None:
        super().__init__(topic)
        self.refused = refused

    async def send(self, events: Sequence[BaseModel], key: bytes) -> None:
        if key == self.refused:
            raise Unavailable("The event stream is unavailable; retry shortly.")
        await super().send(events, key)


def card(serial: int) -> PaperCodeIssued:
    return PaperCodeIssued(data=PaperCodeIssuedData(person_id=uuid4(), serial=serial))


def staged(rows: FakeOutboxRows, key: bytes, *events: BaseModel) -> Staged:
    return Staged(STATUS_TOPIC, key, events, tuple(rows.add(STATUS_TOPIC, key, events)))


async def test_each_key_goes_out_in_one_publish_and_what_was_acknowledged_is_marked_sent() -> None:
    clock = ManualClock()
    rows = FakeOutboxRows(clock)
    publisher = RefusingKey(STATUS_TOPIC, refused=b"b")
    outbox = Outbox("status", rows, [publisher])  # type: ignore[list-item]
    a, b = staged(rows, b"a", card(1), card(2)), staged(rows, b"b", card(3))
    with pytest.raises(Unavailable):
        await outbox.send(a, b)
    assert [(key, [e.data.serial for e in events]) for key, events in publisher.sent] == [(b"a", [1, 2])]  # type: ignore[attr-defined]
    assert rows.unsent_ids() == list(b.outbox_ids)
    # The relay sends the rest once the key's partition is back, and nothing twice.
    publisher.refused = b""
    clock.advance(timedelta(minutes=1))
    assert await outbox.relay() == 1
    assert await outbox.relay() == 0
    assert [key for key, _ in publisher.sent] == [b"a", b"b"]


async def test_an_empty_send_publishes_nothing() -> None:
    rows = FakeOutboxRows(ManualClock())
    publisher = RecordingPublisher(STATUS_TOPIC)
    await Outbox("status", rows, [publisher]).send(Staged(STATUS_TOPIC, b"k", (), ()))  # type: ignore[list-item]
    assert publisher.sent == []


def test_the_jobs_are_named_for_the_service() -> None:
    jobs = Outbox("status", FakeOutboxRows(ManualClock()), []).jobs(5.0, 3600.0)
    assert [(j.name, j.interval_s, j.first_s) for j in jobs] == [
        ("status.outbox", 5.0, 5.0),
        ("status.outbox-prune", 3600.0, 3600.0),
    ]


@pytest.mark.parametrize("schema", ["", "Status", "status.outbox", "status; DROP TABLE x"])
def test_only_a_plain_schema_name_reaches_the_sql(schema: str) -> None:
    with pytest.raises(ValueError, match="schema"):
        OutboxTable(None, schema)  # type: ignore[arg-type]

"""The check-in pipeline's decisions with in-memory collaborators: a poison message is parked and
the rest written, a failed write rewinds its batch (and drops the one decoded behind it), a batch
is written once and its offsets committed after it, and ingestion's own rules (retention, the
day partitions it asks for)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError

from services.tracing import pipeline
from services.tracing.models import CheckinRow, CheckoutRow
from services.tracing.pipeline import CheckinPipeline, Ingest
from services.tracing.wire import decode_row
from shared.events import CHECKINS_TOPIC, encode
from tests.integration.tracing.timeline import checkin, checkout
from tests.unit.tracing.fakes import T0, Clock, FakeStore, retention

TOPIC = f"test.{CHECKINS_TOPIC}"


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class Consumer:
    """What the pipeline asks of aiokafka's consumer: seek, commit, assignment, highwater; as
    aiokafka 0.14 does, a partition a rebalance took away fails commit (IllegalStateError) and
    highwater (an assertion)."""

    def __init__(self) -> None:
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.commits: list[dict[TopicPartition, int]] = []
        self.revoked: set[TopicPartition] = set()

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if taken := self.revoked & offsets.keys():
            raise IllegalStateError(f"Partition {taken} is not assigned")
        self.commits.append(offsets)

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(TOPIC, p) for p in range(4)} - self.revoked

    def highwater(self, tp: TopicPartition) -> int | None:
        assert tp not in self.revoked, "Partition is not assigned"
        return None


class Parking:
    """The dead-letter topic: keeps what was parked; ``failing`` when it cannot be reached."""

    def __init__(self) -> None:
        self.parked: list[tuple[bytes, str, bytes | None]] = []
        self.failing = False

    async def park(self, raw: bytes, error: Exception, key: bytes | None) -> None:
        if self.failing:
            raise ConnectionError("the broker is away")
        self.parked.append((raw, type(error).__name__, key))


def batch(values: Sequence[bytes], partition: int = 0, first: int = 0) -> tuple[Record, ...]:
    return tuple(Record(TOPIC, partition, first + i, b"k%d" % i, v) for i, v in enumerate(values))


def events(n: int) -> list[bytes]:
    venue = uuid.uuid4()
    return [encode(checkin(uuid.uuid4(), venue, T0 - timedelta(minutes=n - i))) for i in range(n)]


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "RETRY_PAUSE_S", 0.0)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def parking() -> Parking:
    return Parking()


@pytest.fixture
def checkins(store: FakeStore, parking: Parking) -> CheckinPipeline:
    return CheckinPipeline(Ingest(store.as_store(), retention(Clock())), parking)


async def settled(checkins: CheckinPipeline) -> Any:
    """Wait for the batch still being written (the pipeline overlaps it with the next fetch)."""
    return await checkins._writer.settle()


async def test_a_batch_is_written_once_and_its_offsets_committed_after_it(
    checkins: CheckinPipeline, store: FakeStore
) -> None:
    consumer = Consumer()
    records = batch(events(3), first=40) + batch(events(2), partition=1, first=7)

    await checkins.take(records, consumer)
    assert await settled(checkins) == {}

    [(written, checkouts, _)] = store.state.writes
    assert len(written) == 5
    assert checkouts == []
    assert consumer.commits == [{TopicPartition(TOPIC, 0): 43, TopicPartition(TOPIC, 1): 9}]
    assert consumer.seeks == []


async def test_a_batch_whose_partition_a_rebalance_took_meanwhile_stops_nothing_after_it(
    checkins: CheckinPipeline, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = Consumer()
    taken, kept, other = (TopicPartition(TOPIC, p) for p in (0, 1, 2))
    # Today's partition first: a batch that needs one is written only in its turn.
    await checkins.take(batch(events(1), partition=2), consumer)
    await settled(checkins)
    release = asyncio.Event()
    staged_by_store = store.checkins.staged

    @asynccontextmanager
    async def staged(rows: Sequence[CheckinRow]) -> AsyncIterator[Any]:
        async with staged_by_store(rows) as written:
            store_now = written.store

            async def store_later(checkouts: Sequence[CheckoutRow]) -> tuple[int, int]:
                await release.wait()  # its INSERT is still running
                return await store_now(checkouts)

            monkeypatch.setattr(written, "store", store_later)
            yield written

    monkeypatch.setattr(store.checkins, "staged", staged)
    await checkins.take(batch(events(3), first=20), consumer)
    # Meanwhile a rebalance gives its partition to another member: its offsets cannot be
    # committed here (the new owner fetches it again, and the key refuses it then), and the
    # batches after it go on.
    consumer.revoked.add(taken)
    release.set()
    await checkins.take(batch(events(2), partition=1, first=7), consumer)
    assert await settled(checkins) == {}

    assert [len(written) for written, _, _ in store.state.writes] == [1, 3, 2]
    assert consumer.commits == [{other: 1}, {kept: 9}]
    assert consumer.seeks == []


async def test_a_poison_message_is_parked_and_the_rest_written(
    checkins: CheckinPipeline, store: FakeStore, parking: Parking
) -> None:
    consumer = Consumer()
    good = events(2)
    bad = b'{"type": "checkin.recorded", "version": 1, "data": {"person_id": "nope"}}'
    records = batch([good[0], bad, good[1], b"not json"])

    await checkins.take(records, consumer)
    await settled(checkins)

    assert parking.parked == [(bad, "ValidationError", b"k1"), (b"not json", "ValidationError", b"k3")]
    [(written, _, _)] = store.state.writes
    assert len(written) == 2
    # Parked messages are behind the committed offset too: they are not fetched again.
    assert consumer.commits == [{TopicPartition(TOPIC, 0): 4}]


async def test_a_failed_write_rewinds_its_batch_and_drops_the_next_one_unwritten(
    checkins: CheckinPipeline, store: FakeStore
) -> None:
    consumer = Consumer()
    store.state.write_error = ConnectionError("Postgres is away")
    first, second = batch(events(3), first=10), batch(events(2), first=13)

    await checkins.take(first, consumer)
    # The next batch, decoded while the first was written: the first failed, so it is dropped
    # and both are fetched again from the first one's offset.
    await checkins.take(second, consumer)
    await settled(checkins)

    assert store.state.writes == []
    assert consumer.commits == []
    tp = TopicPartition(TOPIC, 0)
    assert consumer.seeks == [(tp, 10), (tp, 10)]

    # Postgres back: the batch fetched again is written once.
    store.state.write_error = None
    await checkins.take(first + second, consumer)
    await settled(checkins)
    assert len(store.state.writes) == 1
    assert consumer.commits == [{tp: 15}]


async def test_an_unreachable_dead_letter_topic_rewinds_the_whole_batch(
    checkins: CheckinPipeline, store: FakeStore, parking: Parking
) -> None:
    consumer = Consumer()
    parking.failing = True

    await checkins.take(batch([*events(1), b"poison", *events(1)], first=5), consumer)
    await settled(checkins)

    assert store.state.writes == []
    assert consumer.commits == []
    assert consumer.seeks == [(TopicPartition(TOPIC, 0), 5)]


async def test_ingestion_skips_check_ins_past_retention_and_asks_for_each_day_once(store: FakeStore) -> None:
    ingest = Ingest(store.as_store(), retention(Clock()))
    person, venue = uuid.uuid4(), uuid.uuid4()
    old = checkin(person, venue, T0 - timedelta(days=21, minutes=1))
    today = checkin(person, venue, T0 - timedelta(minutes=5))
    yesterday = checkin(person, venue, T0 - timedelta(days=1))
    out = checkout(person, venue, T0)
    rows = [decode_row(encode(e)) for e in (old, today, yesterday, out)]
    ins = [r for r in rows if isinstance(r, CheckinRow)]
    outs = [r for r in rows if isinstance(r, CheckoutRow)]

    outcome = await ingest.write(ins, outs)

    assert (outcome.stored, outcome.duplicates, outcome.checkouts_applied, outcome.too_old) == (2, 0, 1, 1)
    [(written, applied, days)] = store.state.writes
    assert [r.checkin_id for r in written] == [today.data.checkin_id, yesterday.data.checkin_id]
    assert applied == outs
    assert days == sorted({T0.date(), (T0 - timedelta(days=1)).date()})

    # The same days again: no partition is asked for, and redelivered rows are duplicates.
    again = await ingest.write(ins, [])
    assert store.state.writes[-1][2] == []
    assert (again.stored, again.duplicates) == (0, 2)
    # After upkeep may have dropped partitions, the days are asked for again.
    ingest.forget_partitions()
    await ingest.write(ins, [])
    assert store.state.writes[-1][2] == days


async def test_the_next_batch_is_staged_meanwhile_and_stored_only_after_the_one_before(
    checkins: CheckinPipeline, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = Consumer()
    steps: list[str] = []
    release = asyncio.Event()
    staged_by_store = store.checkins.staged

    @asynccontextmanager
    async def staged(rows: Sequence[CheckinRow]) -> AsyncIterator[Any]:
        name = f"batch of {len(rows)}"
        steps.append(f"staged {name}")
        async with staged_by_store(rows) as batch:
            store_batch = batch.store

            async def store_after(checkouts: Sequence[CheckoutRow]) -> tuple[int, int]:
                if len(rows) == 3:
                    await release.wait()  # the first batch's INSERT still running
                steps.append(f"stored {name}")
                return await store_batch(checkouts)

            monkeypatch.setattr(batch, "store", store_after)
            yield batch

    tp = TopicPartition(TOPIC, 0)
    # A batch that needs a new day partition is written only in its turn: make today's first.
    await checkins.take(batch(events(1), first=0), consumer)
    await settled(checkins)
    monkeypatch.setattr(store.checkins, "staged", staged)

    await checkins.take(batch(events(3), first=1), consumer)
    second = asyncio.create_task(checkins.take(batch(events(2), first=4), consumer))
    for _ in range(10):
        await asyncio.sleep(0)
    # The second batch is copied into its staging table while the first is being stored...
    assert steps == ["staged batch of 3", "staged batch of 2"]
    assert consumer.commits == [{tp: 1}]

    release.set()
    await second
    await settled(checkins)
    # ...and stored after it, its offsets committed after the first's.
    assert steps == ["staged batch of 3", "staged batch of 2", "stored batch of 3", "stored batch of 2"]
    assert consumer.commits == [{tp: 1}, {tp: 4}, {tp: 6}]

"""Tracing's ingestion of the check-in stream: a batch is decoded, its poison messages parked on
the dead-letter topic, its rows written, its offsets committed, or, when that fails, its
partitions rewound to be fetched again. Batches are written in order, each one's write
overlapping the fetching and decoding of the next.

A batch goes into the store as one COPY into a staging table and one INSERT ... ON CONFLICT
DO NOTHING (``CheckinStore.write``): the key (venue_id, checked_in_at, checkin_id)
refuses what is stored already, so no read precedes the write. Until issue 14 a probe for
stored checkin_ids ran ahead of a raw COPY, overlapped with the batch before; its ~5 us a
row in Postgres bought nothing once the key had to refuse duplicates anyway (a raw COPY
cannot), and the probe read off the distribution column.

- the consumer decodes batch k+1 (yielding every ``DECODE_SLICE`` records)
  while batch k is written;
- batch k+1's check-ins are then copied into a staging table in a transaction
  of its own, while batch k's INSERT runs (``Ingest.write_in_turn``);
- batch k+1's INSERT, check-outs and commit wait until batch k is stored and
  its offsets committed, and the consumer goes on to fetch batch k+2 then.

Offsets stay exact: a batch's offsets are committed, per partition and only
after its transaction committed, by the writer itself, and one batch's write
waits for the whole of the one before, so the commits are in order. A failed
write rewinds every partition of its batch to the batch's first offset (the
records are fetched again after a pause); the batch after it, decoded
meanwhile, is dropped unwritten and fetched again too.
Redelivery is harmless: the key keeps each check-in once. A message that can never be
decoded is parked on the dead-letter topic (``Parking``) and counted; when that topic cannot
be reached, the whole batch is rewound instead, so nothing is skipped unparked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any, Protocol

from aiokafka import TopicPartition
from faststream import StreamMessage
from faststream.kafka.fastapi import KafkaRouter
from pydantic import ValidationError

from services.tracing.models import CheckinRow, CheckoutRow
from services.tracing.retention import Retention
from services.tracing.store import Store
from services.tracing.store_checkins import StagedCheckins
from services.tracing.wire import decode_row
from shared.events import CHECKINS_TOPIC
from shared.kafka import dead_letter
from shared.metrics import CONSUMER_LAG, EVENTS_CONSUMED
from shared.settings import KafkaSettings
from shared.telemetry import spans_in_traces_of

log = logging.getLogger("venuecode.tracing.pipeline")
NAME = "tracing"
# After a failed batch (Postgres away) the batch is rewound and retried; this
# pause keeps a dead database from being hammered in a tight loop.
RETRY_PAUSE_S = 1.0
# A batch is decoded this many records at a time, the loop yielded between slices:
# decoding 5000 in one go (~40 ms) held the batch being written still, its COPY
# waiting for the loop while Postgres sat idle.
DECODE_SLICE = 500

Rewound = dict[TopicPartition, int]


class Parking(Protocol):
    """Where a message that can never be handled goes (the dead-letter topic, ``shared.kafka``)."""

    async def park(self, raw: bytes, error: Exception, key: bytes | None) -> None: ...


@dataclass(frozen=True)
class DeadLetters:
    """Parks a check-in message on ``checkins.dlq`` with its key and the error in its headers."""

    router: KafkaRouter
    settings: KafkaSettings

    async def park(self, raw: bytes, error: Exception, key: bytes | None) -> None:
        await dead_letter(self.router, self.settings, CHECKINS_TOPIC, raw, error, key=key)


@dataclass(frozen=True)
class IngestOutcome:
    stored: int
    duplicates: int
    checkouts_applied: int
    too_old: int

    @classmethod
    def of(cls, checkins: int, fresh: int, written: int, applied: int) -> IngestOutcome:
        """A batch of ``checkins``, ``fresh`` of them within retention, ``written`` of those stored."""
        return cls(written, fresh - written, applied, checkins - fresh)


def _days_of(checkins: Sequence[CheckinRow]) -> list[date]:
    """The UTC days from a batch's first check-in to its last: its minimum and maximum are
    converted, not every row (~0.3 us a row when a batch spans midnight, as every batch of
    a backlog reaching into yesterday does). A day between them without a row of the batch
    gets its partition too, as upkeep gives every day."""
    if not checkins:
        return []
    times = [r.checked_in_at for r in checkins]
    first, last = min(times).astimezone(UTC).date(), max(times).astimezone(UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class _Dropped(Exception):
    """The batch before was not stored: this one's transaction is rolled back unwritten."""


# Waits until the batch before is stored (True) or has failed (False).
Turn = Callable[[], Awaitable[bool]]


async def _store_in_turn(
    staged: StagedCheckins, checkouts: Sequence[CheckoutRow], turn: Turn
) -> tuple[int, int]:
    if not await turn():
        raise _Dropped  # leaving the staging transaction rolls it back
    return await staged.store(checkouts)


@dataclass
class Ingest:
    """The rules of writing a batch: within retention, into partitions that exist, each once."""

    store: Store
    retention: Retention
    # Days whose partition this replica made sure of, so a batch skips that round trip;
    # forgotten whenever upkeep may have dropped partitions.
    _partitioned: set[date] = field(default_factory=set, init=False, repr=False)

    async def write(self, checkins: Sequence[CheckinRow], checkouts: Sequence[CheckoutRow]) -> IngestOutcome:
        """Store a batch of check-ins and apply its check-outs in one transaction.

        Check-ins older than the retention period are not stored (they would be
        dropped at once). Redelivery and replay change nothing: the key refuses a
        check-in stored before (``CheckinStore.write``).
        """
        fresh = self._fresh(checkins)
        missing = [d for d in _days_of(fresh) if d not in self._partitioned]
        written, applied = await self.store.checkins.write(fresh, checkouts, partitions=missing)
        self._partitioned.update(missing)
        return IngestOutcome.of(len(checkins), len(fresh), written, applied)

    async def write_in_turn(
        self, checkins: Sequence[CheckinRow], checkouts: Sequence[CheckoutRow], turn: Turn
    ) -> IngestOutcome | None:
        """``write``, once ``turn()`` says the batch before is stored; None (nothing written) when
        it says that one failed.

        Meanwhile the check-ins are copied into the staging table of a transaction of their own
        (``CheckinStore.staged``): that COPY overlaps the batch before's INSERT instead of
        following it. Its INSERT, check-outs and commit wait for the turn, so batches are still
        stored in order, a check-out finds a visit stored by an earlier batch, and two batches
        never wait for each other's keys. A batch that needs a new day partition (DDL on the
        parent table, which would wait for the batch before anyway) waits for its turn first.
        """
        fresh = self._fresh(checkins)
        if any(d not in self._partitioned for d in _days_of(fresh)):
            return await self.write(checkins, checkouts) if await turn() else None
        try:
            async with self.store.checkins.staged(fresh) as staged:
                written, applied = await _store_in_turn(staged, checkouts, turn)
        except _Dropped:
            return None
        return IngestOutcome.of(len(checkins), len(fresh), written, applied)

    def forget_partitions(self) -> None:
        self._partitioned.clear()

    def _fresh(self, checkins: Sequence[CheckinRow]) -> Sequence[CheckinRow]:
        """The check-ins within the retention period (usually all: one comparison then)."""
        if not checkins:
            return checkins
        cutoff = self.retention.cutoff()
        # Comparing with the cutoff converts time zones (~0.5 µs a row); the events of one
        # batch share theirs, so their minimum is cheap.
        if min(r.checked_in_at for r in checkins) >= cutoff:
            return checkins
        return [r for r in checkins if r.checked_in_at >= cutoff]


class CheckinPipeline:
    """One subscriber's batches: decode, park the poison, write in order, rewind on failure."""

    def __init__(self, ingest: Ingest, parking: Parking) -> None:
        self._parking = parking
        self._writer = BatchWriter(ingest)

    async def take(self, raw: Any, consumer: Any) -> None:
        """Handle one fetched batch (``raw``: its records, or one record) of ``consumer``."""
        records: tuple[Any, ...] = raw if isinstance(raw, tuple) else (raw,)
        checkins: list[CheckinRow] = []
        checkouts: list[CheckoutRow] = []
        try:
            for start in range(0, len(records), DECODE_SLICE):
                if start:
                    # The batch being written moves on meanwhile (its COPY fed).
                    await asyncio.sleep(0)
                for record in records[start : start + DECODE_SLICE]:
                    try:
                        row = decode_row(record.value or b"")
                    except ValidationError as exc:
                        await self._parking.park(record.value or b"", exc, record.key)
                        EVENTS_CONSUMED.labels(NAME, CHECKINS_TOPIC, "dead_lettered").inc()
                        continue
                    (checkins if type(row) is CheckinRow else checkouts).append(row)  # type: ignore[arg-type]
        except Exception as exc:  # the dead-letter topic could not be reached
            log.warning("check-in batch failed; rewinding", extra={"error_type": type(exc).__name__})
            rewind_rest(consumer, records, await self._writer.settle())
            await asyncio.sleep(RETRY_PAUSE_S)
            return
        failed = await self._writer.start(consumer, records, checkins, checkouts)
        if failed:
            # The batch before this one failed and was rewound; this one comes after it.
            rewind_rest(consumer, records, failed)


async def one_message_for_the_batch(
    records: tuple[Any, ...], parse: Callable[[tuple[Any, ...]], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    """FastStream's message for a batch, made from its first record and carrying all of them.

    FastStream's batch parser decodes every record's headers into a dict
    (``batch_headers``) and lists every body; ``take`` reads neither, only
    ``raw_message``. That was ~3% of the consumer's time.
    """
    message = await parse(records[:1])
    message.raw_message = records
    return message


async def raw_bodies(msg: StreamMessage[Any]) -> Any:
    """The body left undecoded: ``take`` validates each record itself.

    FastStream's own batch decoder builds a message object (with a fresh uuid4)
    and a JSON parse per record only to hand FastAPI a body the handler never
    reads; that was ~18% of the consumer's CPU under ``venuecode bench ingest``.
    """
    return msg.body


def rewind_rest(consumer: Any, records: tuple[Any, ...], rewound: Rewound) -> None:
    """Drop a decoded batch: fetch it again, and whatever an earlier failed batch rewound.

    The batch may have been fetched before that rewind or after it (then its
    positions moved on again), so every partition goes back to the earliest
    offset of either; nothing from there on was written.
    """
    again = dict(rewound)
    for tp, at in earliest(records).items():
        again[tp] = min(at, again.get(tp, at))
    rewind(consumer, again)


def earliest(records: Sequence[Any]) -> Rewound:
    """The first offset of each partition in a batch."""
    first: Rewound = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        if tp not in first or record.offset < first[tp]:
            first[tp] = record.offset
    return first


def rewind(consumer: Any, offsets: Rewound) -> None:
    """Fetch these partitions again from these offsets (one taken away by a rebalance is skipped:
    its new owner starts from the last committed offset anyway)."""
    for tp, offset in offsets.items():
        try:
            consumer.seek(tp, offset)
        except Exception as exc:
            log.warning("check-in partition not rewound", extra={"error_type": type(exc).__name__})


class BatchWriter:
    """Writes batches in the background, in order; see the module docstring."""

    def __init__(self, ingest: Ingest) -> None:
        self._ingest = ingest
        self._task: asyncio.Task[Rewound] | None = None

    async def settle(self) -> Rewound:
        """Wait for every batch begun; the partitions a failed one rewound (empty when stored)."""
        task, self._task = self._task, None
        return {} if task is None else await task

    async def start(
        self,
        consumer: Any,
        records: Sequence[Any],
        checkins: Sequence[CheckinRow],
        checkouts: Sequence[CheckoutRow],
    ) -> Rewound:
        """Begin a batch (its write once the batch before it is stored) and wait until the
        batch before it is stored. Returns the partitions that one rewound: then this batch
        is dropped unwritten, and the caller fetches it again (``rewind_rest``)."""
        before = self._task
        settled: asyncio.Future[Rewound] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(
            self._write(consumer, records, (checkins, checkouts), before, settled)
        )
        return await settled

    async def _write(
        self,
        consumer: Any,
        records: Sequence[Any],
        rows: tuple[Sequence[CheckinRow], Sequence[CheckoutRow]],
        before: asyncio.Task[Rewound] | None,
        settled: asyncio.Future[Rewound],
    ) -> Rewound:
        turn = _Turn(before, settled)
        try:
            with spans_in_traces_of(records, f"{CHECKINS_TOPIC} store", NAME):
                outcome = await self._ingest.write_in_turn(*rows, turn)
        except Exception as exc:
            # Even a batch that failed before its turn goes on after the batch before it.
            if await turn.previous():
                return {}
            log.warning("check-in batch failed; rewinding", extra={"error_type": type(exc).__name__})
            first = earliest(records)
            rewind(consumer, first)
            await asyncio.sleep(RETRY_PAUSE_S)
            return first
        if outcome is None:
            return {}
        try:
            await _commit(consumer, records, outcome)
        except Exception:  # the batch is stored: nothing after that may stop the batches behind it
            log.exception("check-in batch stored, its bookkeeping failed")
        return {}


class _Turn:
    """A batch's turn: waits for the batch before (what it rewound; empty when stored), then lets
    the caller go on to fetch and decode the next batch (``settled``).

    Awaited in the writing task itself, not a task of its own: the caller resumes only when the
    writer next yields, after the batch's INSERT has been sent (an extra task let the caller's
    fetch and first decoding slice run first, ~7 ms a batch in which Postgres sat idle)."""

    def __init__(self, before: asyncio.Task[Rewound] | None, settled: asyncio.Future[Rewound]) -> None:
        self._before = before
        self._settled = settled
        self._previous: Rewound | None = None

    async def __call__(self) -> bool:
        """True when the batch before is stored."""
        return not await self.previous()

    async def previous(self) -> Rewound:
        if self._previous is None:
            try:
                self._previous = {} if self._before is None else await self._before
                self._settled.set_result(self._previous)
            finally:
                if not self._settled.done():  # the batch before never finished (shutting down)
                    self._settled.cancel()
        return self._previous


def _last_offsets(records: Sequence[Any]) -> dict[TopicPartition, int]:
    """The last offset of each partition in a batch (plain tuples while counting: a
    TopicPartition a record cost ~3% of the consumer's time)."""
    last: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        if record.offset > last.get(key, -1):
            last[key] = record.offset
    return {TopicPartition(*key): offset for key, offset in last.items()}


async def _commit(consumer: Any, records: Sequence[Any], outcome: IngestOutcome) -> None:
    last = _last_offsets(records)
    try:
        await consumer.commit({tp: offset + 1 for tp, offset in last.items()})
    except Exception as exc:  # a rebalance took the partition: its new owner redelivers, the store dedupes
        log.warning("check-in offsets not committed", extra={"error_type": type(exc).__name__})
    EVENTS_CONSUMED.labels(NAME, CHECKINS_TOPIC, "stored").inc(outcome.stored)
    EVENTS_CONSUMED.labels(NAME, CHECKINS_TOPIC, "duplicate").inc(outcome.duplicates)
    _record_lag(consumer, last)


def _record_lag(consumer: Any, last: dict[TopicPartition, int]) -> None:
    """Consumer lag per partition still assigned: the high-water mark minus the next offset to read.
    (aiokafka's ``highwater`` asserts that the partition is assigned, and a rebalance may have
    taken it while its batch was written: raised here, that ended the subscriber for good.)"""
    assigned = consumer.assignment()
    for tp, offset in last.items():
        if tp in assigned and (mark := consumer.highwater(tp)) is not None:
            CONSUMER_LAG.labels(NAME, tp.topic, str(tp.partition)).set(max(0, mark - offset - 1))

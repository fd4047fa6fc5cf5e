"""The check-in batch writer: batches are written in order, each one's duplicate probe overlapping
the write of the batch before it, while the consumer fetches and decodes the next.

Where an event's time goes (py-spy and per-process CPU under ``venuecode
bench ingest``): Python ~13-20 µs (decoding ~4, COPY encoding ~3, aiokafka's
records ~3, the rest bookkeeping), Postgres a COPY as costly as the raw one
(~12 µs) plus the probe for stored checkin_ids (~5 µs), tansu ~2-5 µs. The
probe and the COPY used to be a staging COPY and an INSERT ... ON CONFLICT
(~2x a raw COPY), and the batches ran one stage after another. Now:

- the consumer decodes batch k+1 (yielding every ``DECODE_SLICE`` records)
  while batch k's COPY runs;
- batch k+1's probe goes out on its own connection as soon as it is decoded,
  while batch k is still being written. It cannot see batch k's rows (not
  committed yet), so batch k's checkin_ids are left out of batch k+1 in
  Python (``Written.checkin_ids``);
- batch k+1's COPY waits until batch k is stored and its offsets committed,
  and leaves before the consumer goes on to fetch batch k+2.

Measured with ``venuecode bench ingest --count 200000 --runs 1``, 11 runs
interleaved with the code before: consumer 17.5 k -> 29.8 k events/s
(medians), ratio to raw COPY 0.27 -> 0.47 (0.36-0.56; 2 shared cores, other
benchmarks running). What is left is CPU: the consumer's Python, its two
Postgres backends and tansu share the 2 cores (~40 µs an event against ~15
for a raw COPY), and a batch's probe can only start once it is decoded.

Offsets stay exact: a batch's offsets are committed, per partition and only
after its transaction committed, by the writer itself, and one batch's write
waits for the whole of the one before, so the commits are in order. A failed
write rewinds every partition of its batch to the batch's first offset (the
records are fetched again after a pause); the batch after it, probed or
decoded meanwhile, is dropped unwritten and fetched again too.
Redelivery is harmless: the store keeps each check-in once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from aiokafka import TopicPartition

from services.tracing.models import CheckinRow, CheckoutRow
from services.tracing.service import IngestOutcome, TracingService
from shared.events import CHECKINS_TOPIC
from shared.metrics import CONSUMER_LAG, EVENTS_CONSUMED
from shared.telemetry import spans_in_traces_of

log = logging.getLogger("venuecode.tracing.handlers")
NAME = "tracing"
# After a failed batch (Postgres away) the batch is rewound and retried; this
# pause keeps a dead database from being hammered in a tight loop.
RETRY_PAUSE_S = 1.0

Rewound = dict[TopicPartition, int]


@dataclass(frozen=True)
class Written:
    """What became of a batch: the partitions it rewound (it failed), or the checkin_ids it
    stored or found stored (the batch after it leaves them out), or neither (it was dropped)."""

    rewound: Rewound = field(default_factory=dict)
    checkin_ids: frozenset[UUID] = frozenset()


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

    def __init__(self, service: Callable[[], TracingService]) -> None:
        self._service = service
        self._task: asyncio.Task[Written] | None = None

    async def settle(self) -> Rewound:
        """Wait for every batch begun; the partitions a failed one rewound (empty when stored)."""
        task, self._task = self._task, None
        return {} if task is None else (await task).rewound

    async def start(
        self,
        consumer: Any,
        records: Sequence[Any],
        checkins: Sequence[CheckinRow],
        checkouts: Sequence[CheckoutRow],
    ) -> Rewound:
        """Begin a batch (its probe now, its write once the batch before it is stored) and wait
        until the batch before it is stored. Returns the partitions that one rewound: then this
        batch is dropped unwritten, and the caller fetches it again (``_rewind_rest``)."""
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
        before: asyncio.Task[Written] | None,
        settled: asyncio.Future[Rewound],
    ) -> Written:
        service = self._service()
        checkins, checkouts = rows
        probe = asyncio.create_task(service.stored_checkin_ids(checkins))
        try:
            previous = Written() if before is None else await before
            # The caller (fetching and decoding the next batch) goes on when this task next
            # yields: if the probe has answered, only after this batch's COPY has been sent.
            settled.set_result(previous.rewound)
        finally:
            if not settled.done():  # the batch before never finished (shutting down)
                settled.cancel()
                probe.cancel()
        if previous.rewound:
            await asyncio.gather(probe, return_exceptions=True)
            return Written()
        try:
            stored = await probe | previous.checkin_ids
            with spans_in_traces_of(records, f"{CHECKINS_TOPIC} store", NAME):
                outcome = await service.store_checkins(checkins, checkouts, stored=stored)
        except Exception as exc:
            log.warning("check-in batch failed; rewinding", extra={"error_type": type(exc).__name__})
            first = earliest(records)
            rewind(consumer, first)
            await asyncio.sleep(RETRY_PAUSE_S)
            return Written(rewound=first)
        await _commit(consumer, records, outcome)
        return Written(checkin_ids=frozenset(row.checkin_id for row in checkins))


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
    """Consumer lag per partition: the high-water mark minus the next offset to read."""
    highwater = getattr(consumer, "highwater", None)
    if highwater is None:
        return
    for tp, offset in last.items():
        mark = highwater(tp)
        if mark is not None:
            CONSUMER_LAG.labels(NAME, tp.topic, str(tp.partition)).set(max(0, mark - offset - 1))

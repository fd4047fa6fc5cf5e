"""The check-in batch writer: batches are written in order, each one's write overlapping the
fetching and decoding of the next.

A batch goes into the store as one COPY into a staging table and one INSERT ... ON CONFLICT
DO NOTHING (``store.record_checkins``): the key (venue_id, checked_in_at, checkin_id)
refuses what is stored already, so no read precedes the write. Until issue 14 a probe for
stored checkin_ids ran ahead of a raw COPY, overlapped with the batch before; its ~5 us a
row in Postgres bought nothing once the key had to refuse duplicates anyway (a raw COPY
cannot), and the probe read off the distribution column.

- the consumer decodes batch k+1 (yielding every ``DECODE_SLICE`` records)
  while batch k is written;
- batch k+1's write waits until batch k is stored and its offsets committed,
  and leaves before the consumer goes on to fetch batch k+2.

Offsets stay exact: a batch's offsets are committed, per partition and only
after its transaction committed, by the writer itself, and one batch's write
waits for the whole of the one before, so the commits are in order. A failed
write rewinds every partition of its batch to the batch's first offset (the
records are fetched again after a pause); the batch after it, decoded
meanwhile, is dropped unwritten and fetched again too.
Redelivery is harmless: the key keeps each check-in once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

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
        is dropped unwritten, and the caller fetches it again (``_rewind_rest``)."""
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
        try:
            previous: Rewound = {} if before is None else await before
            # The caller (fetching and decoding the next batch) goes on when this task next
            # yields: after this batch's COPY has been sent.
            settled.set_result(previous)
        finally:
            if not settled.done():  # the batch before never finished (shutting down)
                settled.cancel()
        if previous:
            return {}
        try:
            with spans_in_traces_of(records, f"{CHECKINS_TOPIC} store", NAME):
                outcome = await self._service().ingest_rows(*rows)
        except Exception as exc:
            log.warning("check-in batch failed; rewinding", extra={"error_type": type(exc).__name__})
            first = earliest(records)
            rewind(consumer, first)
            await asyncio.sleep(RETRY_PAUSE_S)
            return first
        await _commit(consumer, records, outcome)
        return {}


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

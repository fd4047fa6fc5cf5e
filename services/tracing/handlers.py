"""Kafka subscribers of the tracing service: decode, call the service; nothing else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import StreamMessage
from faststream.kafka.fastapi import KafkaMessage, KafkaRouter
from pydantic import ValidationError

from services.tracing.config import Settings
from services.tracing.models import CheckinRow, CheckoutRow
from services.tracing.pipeline import NAME, RETRY_PAUSE_S, BatchWriter, Rewound, earliest, rewind
from services.tracing.service import TracingService
from services.tracing.wire import decode_row
from shared.events import (
    CHECKINS_TOPIC,
    REGISTRY_EVENT_ADAPTER,
    REGISTRY_TOPIC,
    Event,
    PersonRegistered,
    VenuePosterPrinted,
    VenuePosterReissued,
    VenueRegistered,
    VenueRenamed,
    topic,
)
from shared.kafka import consumer_options, dead_letter, group_id, settle_one
from shared.metrics import EVENTS_CONSUMED

log = logging.getLogger("venuecode.tracing.handlers")
# A batch is decoded this many records at a time, the loop yielded between slices:
# decoding 5000 in one go (~40 ms) held the batch being written still, its COPY
# waiting for the loop while Postgres sat idle.
DECODE_SLICE = 500


def register(router: KafkaRouter, settings: Settings, service: Callable[[], TracingService]) -> None:
    """Attach the check-in batch subscriber and the registry subscriber to the router."""
    kafka = settings.infra.kafka
    writer = BatchWriter(service)

    @router.subscriber(
        topic(CHECKINS_TOPIC, kafka.namespace),
        group_id=group_id(kafka, NAME, settings.checkins_group),
        **consumer_options(kafka),
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        parser=_one_message_for_the_batch,
        decoder=_raw_bodies,
    )
    async def on_checkins(msg: KafkaMessage) -> None:
        records: tuple[Any, ...] = (
            msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
        )
        consumer = msg.consumer
        checkins: list[CheckinRow] = []
        checkouts: list[CheckoutRow] = []
        try:
            for index, record in enumerate(records):
                if index and not index % DECODE_SLICE:
                    # The batch being written moves on meanwhile (its COPY fed).
                    await asyncio.sleep(0)
                try:
                    row = decode_row(record.value or b"")
                except ValidationError as exc:
                    await dead_letter(router, kafka, CHECKINS_TOPIC, record.value or b"", exc, key=record.key)
                    EVENTS_CONSUMED.labels(NAME, CHECKINS_TOPIC, "dead_lettered").inc()
                    continue
                if isinstance(row, CheckinRow):
                    checkins.append(row)
                else:
                    checkouts.append(row)
        except Exception as exc:  # the dead-letter topic could not be reached
            log.warning("check-in batch failed; rewinding", extra={"error_type": type(exc).__name__})
            _rewind_rest(consumer, records, await writer.settle())
            await asyncio.sleep(RETRY_PAUSE_S)
            return
        failed = await writer.start(consumer, records, checkins, checkouts)
        if failed:
            # The batch before this one failed and was rewound; this one comes after it.
            _rewind_rest(consumer, records, failed)

    @router.subscriber(
        topic(REGISTRY_TOPIC, kafka.namespace),
        group_id=group_id(kafka, NAME, "registry"),
        # Occasional events: polled every 100 ms, so the idle subscriber takes little from ingestion.
        **consumer_options(kafka, sparse=True),
    )
    async def on_registry(msg: KafkaMessage) -> None:
        await settle_one(
            router, kafka, msg, REGISTRY_TOPIC, adapter=REGISTRY_EVENT_ADAPTER, apply=registry_event
        )

    async def registry_event(event: Event) -> None:
        # A failure (Postgres away) is redelivered by settle_one, never acknowledged past.
        if isinstance(
            event,
            VenueRegistered | VenueRenamed | VenuePosterReissued | VenuePosterPrinted | PersonRegistered,
        ):
            await service().registry_event(event)


async def _one_message_for_the_batch(
    records: tuple[Any, ...], parse: Callable[[tuple[Any, ...]], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    """FastStream's message for a batch, made from its first record and carrying all of them.

    FastStream's batch parser decodes every record's headers into a dict
    (``batch_headers``) and lists every body; ``on_checkins`` reads neither,
    only ``raw_message``. That was ~3% of the consumer's time.
    """
    message = await parse(records[:1])
    message.raw_message = records
    return message


async def _raw_bodies(msg: StreamMessage[Any]) -> Any:
    """The body left undecoded: ``on_checkins`` validates each record itself.

    FastStream's own batch decoder builds a message object (with a fresh uuid4)
    and a JSON parse per record only to hand FastAPI a body the handler never
    reads; that was ~18% of the consumer's CPU under ``venuecode bench ingest``.
    """
    return msg.body


def _rewind_rest(consumer: Any, records: tuple[Any, ...], rewound: Rewound) -> None:
    """Drop a decoded batch: fetch it again, and whatever an earlier failed batch rewound.

    The batch may have been fetched before that rewind or after it (then its
    positions moved on again), so every partition goes back to the earliest
    offset of either; nothing from there on was written.
    """
    again = dict(rewound)
    for tp, at in earliest(records).items():
        again[tp] = min(at, again.get(tp, at))
    rewind(consumer, again)

"""shared.kafka: an event round-trips through the real broker with its envelope, key and topic."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from services.embedded import EmbeddedStack
from shared.errors import Unavailable
from shared.events import (
    CHECKINS_TOPIC,
    EVENT_ADAPTER,
    CheckinRecorded,
    CheckinRecordedData,
    decode,
    dlq,
    encode,
    topic,
)
from shared.kafka import PUBLISH_TIMEOUT_S, dead_letter, ensure_topics, make_router, publish
from shared.settings import InfraSettings

DEADLINE_S = 20.0


def _checkin(venue_id: uuid.UUID) -> CheckinRecorded:
    return CheckinRecorded(
        producer="venuecode-checkin",
        data=CheckinRecordedData(
            checkin_id=uuid.uuid4(),
            person_id=uuid.uuid4(),
            venue_id=venue_id,
            method="self_scan",
            temperature_band="normal",
            colour_at_checkin="green",
            checked_in_at=datetime.now(UTC),
        ),
    )


async def _consume(
    infra: InfraSettings, name: str, expected: int
) -> list[tuple[bytes | None, bytes, dict[str, bytes]]]:
    consumer = AIOKafkaConsumer(
        name,
        bootstrap_servers=infra.kafka.bootstrap,
        group_id=None,  # no group: all partitions at once, without waiting for a rebalance
        auto_offset_reset="earliest",
        fetch_max_wait_ms=infra.kafka.fetch_max_wait_ms,
    )
    await consumer.start()
    got: list[tuple[bytes | None, bytes, dict[str, bytes]]] = []
    try:
        deadline = time.monotonic() + DEADLINE_S
        while len(got) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                got.extend((r.key, r.value, dict(r.headers)) for r in records)
    finally:
        await consumer.stop()
    return got


async def test_event_round_trips_with_its_envelope(infra: InfraSettings) -> None:
    await ensure_topics(infra.kafka, [CHECKINS_TOPIC])
    router = make_router(infra.kafka, "foundation-test")
    venue = uuid.uuid4()
    events = [_checkin(venue), _checkin(venue)]
    await router.broker.start()
    try:
        await publish(router, infra.kafka, CHECKINS_TOPIC, events, key=venue.bytes)
    finally:
        await router.broker.stop()

    name = topic(CHECKINS_TOPIC, infra.kafka.namespace)
    assert name.startswith(infra.kafka_namespace)
    got = await _consume(infra, name, expected=2)
    assert len(got) == 2
    for (key, value, _), sent in zip(got, events, strict=True):
        assert key == venue.bytes
        assert value == encode(sent)
        envelope = json.loads(value)
        assert set(envelope) == {"event_id", "type", "version", "occurred_at", "producer", "data"}
        assert envelope["type"] == "checkin.recorded"
        assert envelope["version"] == 1
        received = decode(value, EVENT_ADAPTER)
        assert received == sent
        assert received.event_id.version == 7


async def test_dead_letter_keeps_the_message_and_the_error(infra: InfraSettings) -> None:
    router = make_router(infra.kafka, "foundation-test")
    raw = b'{"type": "checkin.teleported", "version": 1}'
    await router.broker.start()
    try:
        await dead_letter(router, infra.kafka, CHECKINS_TOPIC, raw, ValueError("unknown type"))
    finally:
        await router.broker.stop()
    got = await _consume(infra, dlq(topic(CHECKINS_TOPIC, infra.kafka.namespace)), expected=1)
    assert len(got) == 1
    _, value, headers = got[0]
    assert value == raw
    assert headers["x-error-type"] == b"ValueError"
    assert headers["x-error"] == b"unknown type"


async def test_publish_after_the_broker_died_answers_unavailable(
    infra: InfraSettings, tmp_path: Path
) -> None:
    broker = EmbeddedStack(tmp_path, postgres=False, redis=False, kafka=True).start()
    try:
        private = infra.model_copy(update={"kafka_bootstrap": broker.kafka_bootstrap})
        await ensure_topics(private.kafka, [CHECKINS_TOPIC])
        router = make_router(private.kafka, "foundation-test")
        await router.broker.start()
        try:
            await publish(router, private.kafka, CHECKINS_TOPIC, [_checkin(uuid.uuid4())], key=b"k")
            broker.stop()
            started = time.monotonic()
            with pytest.raises(Unavailable) as caught:
                await publish(router, private.kafka, CHECKINS_TOPIC, [_checkin(uuid.uuid4())], key=b"k")
            assert time.monotonic() - started < PUBLISH_TIMEOUT_S + 5  # bounded: a phone is waiting
            assert caught.value.status_code == 503
            assert caught.value.headers["Retry-After"]
        finally:
            await asyncio.wait_for(router.broker.stop(), 30)
    finally:
        broker.stop()

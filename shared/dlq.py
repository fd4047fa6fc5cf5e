"""Dead letters an operator can use: what a parked message carries, listing them, replaying them.

A message a consumer cannot handle is parked on its topic's ``.dlq`` twin (``shared.kafka.
dead_letter``) with its key and headers naming the error: ``x-error-type``, ``x-error`` (the
message; for a validation error each field path and rule, never the input, which may hold
personal data), ``x-error-field`` (the first field path, ``data.reason``), ``x-original-topic``
and ``x-parked-at``. ``venuecode dlq list TOPIC`` shows them; after a fix, ``venuecode dlq
replay TOPIC [--since]`` sends them back to the topic with their key: consumers deduplicate by
event id, so a message replayed twice is applied once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from shared.events import dlq, topic
from shared.settings import KafkaSettings

# Long enough for a few rules' messages, short enough for a header.
ERROR_CHARS = 500


def field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(message)"


def describe(error: Exception) -> tuple[str, str | None]:
    """The error's message and the field path it names (None when it names none)."""
    if isinstance(error, ValidationError):
        problems = error.errors(include_input=False, include_url=False, include_context=False)
        paths = [field_path(p["loc"]) for p in problems]
        message = "; ".join(f"{path}: {p['msg']}" for path, p in zip(paths, problems, strict=True))
        return message[:ERROR_CHARS], paths[0] if paths else None
    fields = [e.get("field") for e in getattr(error, "errors", None) or [] if isinstance(e, dict)]
    return str(error)[:ERROR_CHARS], next((f for f in fields if f), None)


def parking_headers(original_topic: str, error: Exception) -> dict[str, str]:
    message, field = describe(error)
    headers = {
        "x-error-type": type(error).__name__,
        "x-error": message,
        "x-original-topic": original_topic,
        "x-parked-at": datetime.now(UTC).isoformat(),
    }
    if field is not None:
        headers["x-error-field"] = field
    return headers


@dataclass(frozen=True)
class Parked:
    """One message on a .dlq topic."""

    partition: int
    offset: int
    parked_at: datetime
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def event(self) -> str:
        """``type event_id`` of the parked event when its body says (they are no personal data)."""
        try:
            body = json.loads(self.value)
        except ValueError:
            return "(not JSON)"
        if not isinstance(body, dict):
            return "(not an event)"
        return f"{body.get('type', '?')} {body.get('event_id', '?')}"

    def line(self) -> str:
        h = self.headers
        field = f" field={h['x-error-field']}" if "x-error-field" in h else ""
        return (
            f"{self.parked_at.isoformat()} {self.partition}:{self.offset} {self.event}"
            f" {h.get('x-error-type', '?')}{field}: {h.get('x-error', '')}"
        )


async def parked(settings: KafkaSettings, name: str, since: datetime | None = None) -> list[Parked]:
    """Every message parked on ``name``'s .dlq (``name`` without namespace), oldest first."""
    target = dlq(topic(name, settings.namespace))
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        request_timeout_ms=settings.request_timeout_ms,
    )
    await consumer.start()
    try:
        if target not in await consumer.topics():
            return []
        partitions = [TopicPartition(target, p) for p in sorted(consumer.partitions_for_topic(target) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        found: list[Parked] = []
        while [p for p in partitions if await consumer.position(p) < end[p]]:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    if r.offset >= end[TopicPartition(r.topic, r.partition)]:
                        continue
                    headers = {k: v.decode(errors="replace") for k, v in r.headers}
                    at = datetime.fromtimestamp(r.timestamp / 1000, UTC)
                    found.append(Parked(r.partition, r.offset, at, r.key, r.value or b"", headers))
    finally:
        await consumer.stop()
    found.sort(key=lambda p: (p.parked_at, p.partition, p.offset))
    return [p for p in found if since is None or p.parked_at >= since]


async def replay(settings: KafkaSettings, name: str, since: datetime | None = None) -> list[Parked]:
    """Send the parked messages of ``name`` (since ``since``) back to it, with their keys, in
    the order they were parked; returns them. Each carries ``x-replayed-from`` (its .dlq place)."""
    messages = await parked(settings, name, since)
    if not messages:
        return []
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        enable_idempotence=settings.idempotent_producer,
        request_timeout_ms=settings.request_timeout_ms,
    )
    await producer.start()
    try:
        for message in messages:
            origin = f"{dlq(name)}:{message.partition}:{message.offset}"
            await producer.send_and_wait(
                topic(name, settings.namespace),
                message.value,
                key=message.key,
                headers=[("x-replayed-from", origin.encode())],
            )
    finally:
        await producer.stop()
    return messages

"""Kafka helpers for tracing tests: publish raw events to the test namespace, read a topic, poll."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import BaseModel

from shared.events import encode, topic
from shared.settings import InfraSettings

POLL_DEADLINE_S = 30.0


@asynccontextmanager
async def producer(infra: InfraSettings) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(bootstrap_servers=infra.kafka.bootstrap, acks="all", linger_ms=5)
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def send_with(
    client: AIOKafkaProducer, infra: InfraSettings, name: str, items: Sequence[BaseModel | bytes], key: bytes
) -> None:
    """Publish events (or raw bytes) to ``name`` in the test namespace, acknowledged by the broker."""
    target = topic(name, infra.kafka.namespace)
    pending = [
        await client.send(target, item if isinstance(item, bytes) else encode(item), key=key)
        for item in items
    ]
    await asyncio.gather(*pending)


async def send(infra: InfraSettings, name: str, items: Sequence[BaseModel | bytes], key: bytes) -> None:
    async with producer(infra) as client:
        await send_with(client, infra, name, items, key)


async def read_topic(infra: InfraSettings, full_name: str, expected: int) -> list[Any]:
    """Read ``expected`` records of a namespaced topic from the beginning (or fail at the deadline)."""
    consumer = AIOKafkaConsumer(
        full_name,
        bootstrap_servers=infra.kafka.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + POLL_DEADLINE_S
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records

"""Kafka tools of the fault tests: a group's committed offsets, rewinding a group, sending a topic again."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.faults.kit import DEADLINE_S

# A topic is read to its end when no record came for this long (fetches answer every 10-200 ms).
QUIET_S = 1.5


async def _partitions(consumer: AIOKafkaConsumer, name: str) -> list[TopicPartition]:
    await consumer.topics()  # a metadata round trip: a fresh consumer knows no partitions yet
    parts = consumer.partitions_for_topic(name) or set()
    return [TopicPartition(name, p) for p in sorted(parts)]


async def offsets(bootstrap: str, group: str, name: str) -> tuple[dict[int, int], dict[int, int]]:
    """The group's committed offsets and the topic's end offsets, per partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await _partitions(consumer, name)
        ends = await consumer.end_offsets(parts)
        committed = {tp.partition: (await consumer.committed(tp)) or 0 for tp in parts}
    finally:
        await consumer.stop()
    return committed, {tp.partition: end for tp, end in ends.items()}


async def rewind(bootstrap: str, group: str, name: str) -> None:
    """Commit offset 0 on every partition for ``group``: its next consumer replays the whole topic.

    tansu refuses commits from outside the group (UnknownMemberId), so this joins it first, as
    ``kafka-consumer-groups --reset-offsets`` does; the group must have no other member.
    """
    consumer = AIOKafkaConsumer(
        name,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=15_000,  # tansu answers JoinGroup after ~5 s (shared.settings)
        # tansu answers a JoinGroup after about half the session timeout: 6 s joins in ~3 s.
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not consumer.assignment() and time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=200, max_records=1)
        assert consumer.assignment(), "could not join the group to rewind it"
        await consumer.commit(dict.fromkeys(consumer.assignment(), 0))
    finally:
        await consumer.stop()


async def read_all(bootstrap: str, name: str) -> list[Any]:
    """Every record of a topic: read from the start until nothing more came for QUIET_S.

    Not bounded by the end offsets: tansu's can lag the records it holds (seen: 275 of 300).
    """
    consumer = AIOKafkaConsumer(
        name, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + DEADLINE_S
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < QUIET_S and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
                quiet_since = time.monotonic()
    finally:
        await consumer.stop()
    return records


async def republish(bootstrap: str, name: str) -> int:
    """Send every record of a topic once more, same key and bytes (a producer's retry); the count."""
    records = await read_all(bootstrap, name)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        pending = [await producer.send(name, r.value, key=r.key, partition=r.partition) for r in records]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(records)

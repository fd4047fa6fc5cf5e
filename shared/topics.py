"""Topics as infrastructure: every topic and its ``.dlq`` twin, made and checked from settings.

``venuecode topics create`` makes them (in production once, before any service starts) and
``venuecode topics check`` fails naming a topic that is missing or smaller than configured. A
service in production never creates a topic: a pod that won a race against the topic job would
leave the check-in topic with the broker's default partitions, for ever (partitions can be
added, but never without moving keys). It checks them in its readiness instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import for_code

from shared.events import (
    CHECKINS_TOPIC,
    DLQ_SUFFIX,
    REGISTRY_TOPIC,
    STATUS_COMMANDS_TOPIC,
    STATUS_TOPIC,
    dlq,
    topic,
)
from shared.settings import KafkaSettings

# The platform's topics; each has a .dlq twin (parked messages, replayed by `venuecode dlq`).
TOPICS = (CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_TOPIC, STATUS_COMMANDS_TOPIC)
WEEK_MS = 7 * 24 * 3600 * 1000
# How long a topic keeps its messages. Registry events rebuild every read model from the
# start: kept for ever (-1). Seven days of check-ins to replay from if the tracing store must
# be rebuilt; parked messages a month, time enough for a fix and a replay.
RETENTION_MS = {REGISTRY_TOPIC: -1}
DLQ_RETENTION_MS = 30 * 24 * 3600 * 1000
TOPIC_EXISTS = 36  # Kafka's TOPIC_ALREADY_EXISTS error code


class TopicsError(Exception):
    """A topic could not be created, or is not as configured."""


@dataclass(frozen=True)
class TopicSpec:
    name: str  # as the broker knows it (namespaced)
    partitions: int
    replication: int
    config: dict[str, str]


def every_topic() -> list[str]:
    """Every topic name (un-namespaced), each followed by its .dlq twin."""
    return [name for base in TOPICS for name in (base, dlq(base))]


def spec_of(settings: KafkaSettings, name: str) -> TopicSpec:
    """What ``name`` (un-namespaced, a topic or a .dlq twin) is configured to be."""
    retention = DLQ_RETENTION_MS if name.endswith(DLQ_SUFFIX) else RETENTION_MS.get(name, WEEK_MS)
    return TopicSpec(
        topic(name, settings.namespace),
        settings.partitions_of(name),
        settings.replication_factor,
        {"min.insync.replicas": str(settings.min_insync_replicas), "retention.ms": str(retention)},
    )


@asynccontextmanager
async def _admin(settings: KafkaSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap, request_timeout_ms=settings.request_timeout_ms
    )
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def create(settings: KafkaSettings, names: Iterable[str] | None = None) -> list[str]:
    """Create the missing topics of ``names`` (default: all) as configured; returns those made.

    A topic that exists is left as it is (``check`` says whether it is as configured).
    """
    specs = [spec_of(settings, name) for name in (every_topic() if names is None else names)]
    if not specs:
        return []
    async with _admin(settings) as admin:
        response = await admin.create_topics(
            [NewTopic(s.name, s.partitions, s.replication, topic_configs=s.config) for s in specs]
        )
    made = []
    for name, code, message in response.topic_errors:
        if code == 0:
            made.append(name)
        elif code != TOPIC_EXISTS:
            raise TopicsError(f"{name}: {for_code(code).__name__}: {message}")
    return made


async def check(settings: KafkaSettings, names: Iterable[str] | None = None) -> list[str]:
    """What is wrong with the topics of ``names`` (default: all), one line each naming the topic.

    Missing, fewer partitions or replicas than configured, or a smaller min.insync.replicas.
    Topics are listed first and only those that exist are described: a metadata request that
    names a missing topic makes brokers with auto-creation on (tansu) create it.
    """
    specs = [spec_of(settings, name) for name in (every_topic() if names is None else names)]
    async with _admin(settings) as admin:
        existing = set(await admin.list_topics())
        present = [s for s in specs if s.name in existing]
        described = await admin.describe_topics([s.name for s in present]) if present else []
        isr = await _min_isr(admin, [s.name for s in present])
    partitions = {t["topic"]: t["partitions"] for t in described}
    problems = []
    for spec in specs:
        if spec.name not in existing:
            problems.append(f"{spec.name}: missing")
            continue
        found = partitions.get(spec.name, [])
        if len(found) < spec.partitions:
            problems.append(f"{spec.name}: {len(found)} partitions, {spec.partitions} configured")
        replicas = min((len(p["replicas"]) for p in found), default=0)
        if replicas < spec.replication:
            problems.append(f"{spec.name}: replication {replicas}, {spec.replication} configured")
        wanted_isr = int(spec.config["min.insync.replicas"])
        if isr.get(spec.name, wanted_isr) < wanted_isr:
            problems.append(f"{spec.name}: min.insync.replicas {isr[spec.name]}, {wanted_isr} configured")
    return problems


async def _min_isr(admin: AIOKafkaAdminClient, names: Sequence[str]) -> dict[str, int]:
    """Each topic's min.insync.replicas as the broker reports it (absent when it does not)."""
    if not names:
        return {}
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    )
    found: dict[str, int] = {}
    for response in responses:
        for resource in response.resources:
            _, _, _, name, entries = resource[:5]
            for entry in entries:
                if entry[0] == "min.insync.replicas" and entry[1] is not None:
                    found[name] = int(entry[1])
    return found

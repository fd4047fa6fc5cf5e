"""Three replicas of each service on one database, broker and Redis: every periodic job's work is
done once (rows swept, events relayed, keys refilled, partitions made), counted by the jobs'
work counter and checked against what the database and the topics hold.

(That a dead holder is taken over within one interval: tests/integration/test_jobs.py.)
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from prometheus_client import REGISTRY

from shared.colours import WARM_MARKER
from shared.events import (
    REGISTRY_TOPIC,
    STATUS_TOPIC,
    StatusChanged,
    StatusChangedData,
    StatusSet,
    StatusSetData,
    VenueRenamed,
    VenueRenamedData,
    topic,
)
from shared.settings import InfraSettings, KafkaSettings
from tests.integration.status.conftest import ManualClock
from tests.waiting import eventually

INTERVAL_S = 0.2
# Enough work, in small chunks, that a round takes about as long as the interval: replicas
# without the lock would overlap, and a refill or relay done twice would show in the counts.
PEOPLE = 200
UNSENT = 200
REFILL_CHUNK = 5
DEADLINE_S = 30.0


def work(job: str) -> float:
    return REGISTRY.get_sample_value("venuecode_job_work_total", {"job": job}) or 0.0


def rounds(job: str) -> float:
    return REGISTRY.get_sample_value("venuecode_job_rounds_total", {"job": job, "outcome": "ran"}) or 0.0


async def quiet(job: str) -> None:
    """Let the replicas run a few more rounds of ``job``, so work done twice would show."""
    seen = rounds(job)

    async def three_more() -> bool:
        return rounds(job) >= seen + 3

    await eventually(three_more, timeout_s=30, what=f"three more rounds of {job}")


@asynccontextmanager
async def replicas(apps: Sequence[FastAPI]) -> AsyncIterator[None]:
    """Run the apps' lifespans side by side (started together, as pods roll out), then stop them."""
    stop = asyncio.Event()
    started = [asyncio.Event() for _ in apps]

    async def run(app: FastAPI, ready: asyncio.Event) -> None:
        async with app.router.lifespan_context(app):
            ready.set()
            await stop.wait()

    tasks = [asyncio.create_task(run(app, ready)) for app, ready in zip(apps, started, strict=True)]
    try:
        waiting = [asyncio.create_task(ready.wait()) for ready in started]
        done, _ = await asyncio.wait([*tasks, asyncio.gather(*waiting)], return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task in done:
                task.result()  # a replica that failed to start fails the test with its error
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def events_on(kafka: KafkaSettings, name: str) -> list[dict[str, Any]]:
    """Every event on a topic, from the beginning to its end now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10
    )
    await consumer.start()
    try:
        target = topic(name, kafka.namespace)
        await consumer.topics()
        parts = [TopicPartition(target, p) for p in consumer.partitions_for_topic(target) or ()]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        found: list[dict[str, Any]] = []
        while any([await consumer.position(p) < end[p] for p in parts]):
            batch = await consumer.getmany(timeout_ms=200)
            found.extend(json.loads(m.value) for messages in batch.values() for m in messages if m.value)
        return found
    finally:
        await consumer.stop()


async def test_three_status_replicas_refill_relay_and_sweep_once(infra: InfraSettings) -> None:
    from services.status.app import create_app
    from services.status.config import Settings

    clock = ManualClock()
    settings = Settings(
        infra=infra,
        cache_check_interval_s=INTERVAL_S,
        sweep_interval_s=INTERVAL_S,
        outbox_relay_interval_s=INTERVAL_S,
        refill_chunk=REFILL_CHUNK,
        sweep_batch=REFILL_CHUNK,
    )
    apps = [create_app(settings, clock=clock) for _ in range(3)]
    async with replicas(apps):
        services = apps[0].state.services
        runtime = apps[0].state.services.runtime
        people = [uuid4() for _ in range(PEOPLE)]
        until_at = clock.now() + timedelta(hours=1)
        for person in people:
            data = StatusSetData(
                person_id=person,
                colour="yellow",
                reason="close_contact",
                requested_by=uuid4(),
                valid_until=until_at,
            )
            assert await services.status.apply_command(StatusSet(data=data)) is not None

        # Refill: the cache is flushed; one replica refills every key, once.
        await eventually(
            lambda: runtime.redis.exists(f"{runtime.redis_prefix}{WARM_MARKER}"),
            timeout_s=30,
            what="the first refill",
        )
        before = work("status.cache")
        keys = [k async for k in runtime.redis.scan_iter(match=f"{runtime.redis_prefix}colour:*")]
        await runtime.redis.delete(*keys)
        await eventually(
            lambda: runtime.redis.exists(f"{runtime.redis_prefix}{WARM_MARKER}"),
            timeout_s=30,
            what="a refill",
        )
        await quiet("status.cache")
        assert work("status.cache") - before == PEOPLE

        # Relay: rows a failed publish left; each is sent once, by one replica.
        before = work("status.outbox")
        left = []
        async with services.store.unit() as unit:
            for person in people[:UNSENT]:
                event = StatusChanged(
                    data=StatusChangedData(
                        person_id=person, colour="yellow", reason="close_contact", version=1
                    )
                )
                left.append(str(event.event_id))
                await unit.stage(STATUS_TOPIC, str(person).encode(), [event])
        await runtime.pool.execute("UPDATE status.outbox SET created_at = now() - interval '1 minute'")
        await eventually(
            lambda: runtime.pool.fetchval("SELECT count(*) = 0 FROM status.outbox WHERE sent_at IS NULL"),
            timeout_s=30,
            what="every row sent",
        )
        await quiet("status.outbox")
        assert work("status.outbox") - before == UNSENT
        sent = Counter(e["event_id"] for e in await events_on(infra.kafka, STATUS_TOPIC))
        assert {event_id: sent[event_id] for event_id in left} == dict.fromkeys(left, 1)

        # Sweep: every colour expires; each is recorded green once.
        before = work("status.sweep")
        clock.advance(timedelta(hours=2))

        async def swept() -> bool:
            return await services.store.expiring(clock.now(), 1) == []

        await eventually(swept, timeout_s=30, what="every colour swept")
        await quiet("status.sweep")
        assert work("status.sweep") - before == PEOPLE
        expiries = await runtime.pool.fetchval("SELECT count(*) FROM status.history WHERE source = 'expiry'")
        assert expiries == PEOPLE
        greens = Counter(
            e["data"]["person_id"]
            for e in await events_on(infra.kafka, STATUS_TOPIC)
            if e["type"] == "status.changed" and e["data"]["colour"] == "green"
        )
        assert greens == Counter({str(p): 1 for p in people})


async def test_three_registry_replicas_relay_each_event_once(infra: InfraSettings) -> None:
    from services.registry.app import create_app
    from services.registry.config import Settings
    from services.registry.store import Store

    apps = [create_app(Settings(infra=infra, outbox_relay_interval_s=INTERVAL_S)) for _ in range(3)]
    async with replicas(apps):
        pool = apps[0].state.services.runtime.pool
        before = work("registry.outbox")
        events = [
            VenueRenamed(data=VenueRenamedData(venue_id=uuid4(), name=f"Hall {n}")) for n in range(UNSENT)
        ]
        async with Store(pool).unit() as unit:
            for event in events:
                await unit.stage(REGISTRY_TOPIC, str(event.data.venue_id).encode(), [event])
        await pool.execute("UPDATE registry.outbox SET created_at = now() - interval '1 minute'")
        await eventually(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM registry.outbox WHERE sent_at IS NULL"),
            timeout_s=30,
            what="every row sent",
        )
        await quiet("registry.outbox")
        assert work("registry.outbox") - before == UNSENT
        sent = Counter(e["event_id"] for e in await events_on(infra.kafka, REGISTRY_TOPIC))
        assert sent == Counter({str(e.event_id): 1 for e in events})


async def test_three_tracing_replicas_make_the_partitions_once(infra: InfraSettings) -> None:
    import asyncpg

    from services.tracing.app import create_app
    from services.tracing.config import Settings
    from tests.integration.tracing.timeline import partition_names

    before = work("tracing.upkeep")
    apps = [create_app(Settings(infra=infra, maintenance_interval_s=INTERVAL_S)) for _ in range(3)]
    async with replicas(apps):
        await quiet("tracing.upkeep")
        pool = await asyncpg.create_pool(infra.postgres.url, min_size=1, max_size=1)
        try:
            partitions = await partition_names(pool)
        finally:
            await pool.close()
        days = [name for name in partitions if name != "checkins_default"]  # the default: a migration's
        assert days
        assert work("tracing.upkeep") - before == len(days)

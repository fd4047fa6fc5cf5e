"""The check-in stream into the store: batches, duplicates, poison messages, restarts, lag."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import asyncpg
import httpx
from fastapi import FastAPI

from services.tracing.app import create_app
from services.tracing.config import Settings
from shared.events import (
    CHECKINS_TOPIC,
    REGISTRY_TOPIC,
    VenueRegistered,
    VenueRegisteredData,
    dlq,
    topic,
)
from shared.settings import InfraSettings
from tests.integration.tracing.kafka_tools import producer, read_topic, send, send_with
from tests.integration.tracing.timeline import base_time, checkin, checkout, minutes
from tests.waiting import eventually

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


async def count_rows(infra: InfraSettings) -> int:
    conn = await asyncpg.connect(infra.postgres.url)
    try:
        exists = await conn.fetchval("SELECT to_regclass('tracing.checkins') IS NOT NULL")
        return int(await conn.fetchval("SELECT count(*) FROM tracing.checkins")) if exists else 0
    finally:
        await conn.close()


async def test_duplicates_and_replays_are_stored_once(infra: InfraSettings, serve: Serve) -> None:
    t0 = base_time()
    venue = uuid.uuid4()
    events = [checkin(uuid.uuid4(), venue, t0 + minutes(i)) for i in range(50)]
    # A producer retry re-sends the same event; a replay re-sends it with a new envelope.
    replays = [e.model_copy(update={"event_id": uuid.uuid4()}) for e in events[:20]]
    # A scan retried while checkin's Redis was down: a new envelope, the first attempt's
    # checkin_id and checked_in_at (services/checkin/scantime.py).
    retried = [
        e.model_copy(update={"event_id": uuid.uuid4(), "data": e.data.model_copy()}) for e in events[20:30]
    ]

    async with serve(create_app(Settings(infra=infra))):
        await send(infra, CHECKINS_TOPIC, [*events, *events[:10], *replays, *retried], key=venue.bytes)

        async def settled() -> bool:
            return await count_rows(infra) == 50

        await eventually(settled, timeout_s=30, what="50 distinct check-ins")
        await send(infra, CHECKINS_TOPIC, events, key=venue.bytes)
        marker = checkin(uuid.uuid4(), venue, t0)
        await send(infra, CHECKINS_TOPIC, [marker], key=venue.bytes)

        async def marker_stored() -> bool:
            return await count_rows(infra) == 51

        await eventually(marker_stored, timeout_s=30, what="the marker after the replayed batch")


async def test_a_poison_message_goes_to_the_dlq_and_the_batch_continues(
    infra: InfraSettings, serve: Serve
) -> None:
    t0 = base_time()
    venue = uuid.uuid4()
    good = [checkin(uuid.uuid4(), venue, t0 + minutes(i)) for i in range(3)]
    unknown_type = b'{"event_id": "%s", "type": "checkin.teleported", "version": 1, "data": {}}' % (
        str(uuid.uuid4()).encode()
    )
    wrong_version = good[0].model_dump_json().replace('"version":1', '"version":2').encode()

    async with serve(create_app(Settings(infra=infra))):
        await send(
            infra,
            CHECKINS_TOPIC,
            [good[0], b"not json at all", good[1], unknown_type, wrong_version, good[2]],
            key=venue.bytes,
        )

        async def stored() -> bool:
            return await count_rows(infra) == 3

        await eventually(stored, timeout_s=30, what="the three good check-ins")
        parked = await read_topic(infra, dlq(topic(CHECKINS_TOPIC, infra.kafka.namespace)), 3)

    assert sorted(r.value for r in parked) == sorted([b"not json at all", unknown_type, wrong_version])
    assert all(dict(r.headers)["x-error-type"] == b"ValidationError" for r in parked)


async def test_a_consumer_stopped_mid_stream_and_restarted_stores_each_checkin_once(
    infra: InfraSettings, serve: Serve
) -> None:
    t0 = base_time()
    venues = [uuid.uuid4() for _ in range(8)]
    chunks = [
        [checkin(uuid.uuid4(), venues[(c + i) % 8], t0 + minutes(i)) for i in range(150)] for c in range(16)
    ]
    published = {e.data.checkin_id for chunk in chunks for e in chunk}
    # Small batches, so the stop lands between and inside batches.
    settings = Settings(infra=infra, batch_max_records=100, batch_timeout_ms=20)

    async def produce() -> None:
        async with producer(infra) as client:
            for number, chunk in enumerate(chunks):
                for venue in venues:
                    mine = [e for e in chunk if e.data.venue_id == venue]
                    # Every other chunk is sent twice: redelivery while the consumer churns.
                    await send_with(
                        client, infra, CHECKINS_TOPIC, mine * (2 if number % 2 else 1), venue.bytes
                    )
                await asyncio.sleep(0.2)  # a steady stream, not one burst: the stop lands inside it

    stream: asyncio.Task[None] | None = None
    try:
        async with serve(create_app(settings)):
            stream = asyncio.create_task(produce())

            async def some_stored() -> bool:
                return await count_rows(infra) >= 300

            await eventually(some_stored, timeout_s=30, what="the first consumer to store some check-ins")
        first_run = await count_rows(infra)
        async with serve(create_app(settings)):
            await stream

            async def all_stored() -> bool:
                return await count_rows(infra) >= len(published)

            await eventually(all_stored, timeout_s=60, what="the restarted consumer to catch up")
            # Give a duplicate the chance to show up before counting.
            await send(infra, CHECKINS_TOPIC, [checkin(uuid.uuid4(), venues[0], t0)], key=venues[0].bytes)

            async def marker() -> bool:
                return await count_rows(infra) == len(published) + 1

            await eventually(marker, timeout_s=30, what="the marker after everything else")
    finally:
        if stream is not None and not stream.done():
            stream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stream

    assert 0 < first_run < len(published)  # the first consumer stopped mid-stream
    conn = await asyncpg.connect(infra.postgres.url)
    try:
        distinct = await conn.fetchval("SELECT count(DISTINCT checkin_id) FROM tracing.checkins")
        stored_ids = {r["checkin_id"] for r in await conn.fetch("SELECT checkin_id FROM tracing.checkins")}
    finally:
        await conn.close()
    assert distinct == len(published) + 1
    assert published <= stored_ids


async def test_checkouts_over_the_stream_and_the_venue_read_model(infra: InfraSettings, serve: Serve) -> None:
    t0 = base_time()
    person, venue = uuid.uuid4(), uuid.uuid4()
    registered = VenueRegistered(
        data=VenueRegisteredData(
            venue_id=venue, region_code="440106", name="Gym", category="gym", poster_version=1
        )
    )
    async with serve(create_app(Settings(infra=infra))) as client:
        await send(infra, REGISTRY_TOPIC, [registered, registered, b"{}"], key=venue.bytes)
        await send(
            infra,
            CHECKINS_TOPIC,
            [checkin(person, venue, t0), checkout(person, venue, t0 + minutes(25))],
            key=venue.bytes,
        )

        async def applied() -> bool:
            conn = await asyncpg.connect(infra.postgres.url)
            try:
                out = await conn.fetchval("SELECT checked_out_at FROM tracing.checkins")
                stay = await conn.fetchval("SELECT typical_stay_minutes FROM tracing.venues")
            finally:
                await conn.close()
            return out == t0 + minutes(25) and stay == 90

        await eventually(applied, timeout_s=30, what="the check-out and the venue")
        metrics = (await client.get("/api/tracing/metrics")).text

    assert "venuecode_consumer_lag_messages{partition=" in metrics
    assert 'service="tracing"' in metrics
    parked = await read_topic(infra, dlq(topic(REGISTRY_TOPIC, infra.kafka.namespace)), 1)
    assert [r.value for r in parked] == [b"{}"]


async def test_retried_scans_in_the_next_small_batch_are_stored_once(
    infra: InfraSettings, serve: Serve
) -> None:
    """Batch k+1 is decoded while batch k is written: a retry of a scan in batch k is still a duplicate."""
    t0 = base_time()
    venue = uuid.uuid4()
    originals = [checkin(uuid.uuid4(), venue, t0 + minutes(i)) for i in range(120)]
    # Each scan retried (same checkin_id and checked_in_at, a new envelope) about one batch after it.
    stream = []
    for i, event in enumerate(originals):
        stream.append(event)
        if i >= 12:
            earlier = originals[i - 12]
            stream.append(
                checkin(
                    earlier.data.person_id,
                    venue,
                    earlier.data.checked_in_at,
                    checkin_id=earlier.data.checkin_id,
                )
            )
    settings = Settings(infra=infra, batch_max_records=10, batch_timeout_ms=5)

    async with serve(create_app(settings)):
        await send(infra, CHECKINS_TOPIC, stream, key=venue.bytes)
        marker = checkin(uuid.uuid4(), venue, t0)
        await send(infra, CHECKINS_TOPIC, [marker], key=venue.bytes)

        async def marker_stored() -> bool:
            conn = await asyncpg.connect(infra.postgres.url)
            try:
                found = await conn.fetchval(
                    "SELECT count(*) FROM tracing.checkins WHERE checkin_id = $1", marker.data.checkin_id
                )
            finally:
                await conn.close()
            return bool(found)

        await eventually(marker_stored, timeout_s=30, what="the marker after the stream")

    conn = await asyncpg.connect(infra.postgres.url)
    try:
        total = await conn.fetchval("SELECT count(*) FROM tracing.checkins")
        distinct = await conn.fetchval("SELECT count(DISTINCT checkin_id) FROM tracing.checkins")
    finally:
        await conn.close()
    assert (total, distinct) == (len(originals) + 1, len(originals) + 1)

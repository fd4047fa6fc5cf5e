"""Writing batches: the key (venue_id, checked_in_at, checkin_id) refuses what is stored, also
when another consumer writes the same rows at the same moment."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg

from services.tracing.models import CheckinRow
from services.tracing.pipeline import Ingest
from services.tracing.service import TracingService
from services.tracing.wire import decode_row
from shared.events import CheckinRecorded, encode
from tests.integration.tracing.timeline import checkin, minutes, write_events


def rows(events: list[CheckinRecorded]) -> list[CheckinRow]:
    found = [decode_row(encode(e)) for e in events]
    return [r for r in found if isinstance(r, CheckinRow)]


async def stored(pool: asyncpg.Pool) -> tuple[int, int]:
    """Rows in the store, and distinct checkin_ids among them."""
    record = await pool.fetchrow("SELECT count(*), count(DISTINCT checkin_id) FROM tracing.checkins")
    assert record is not None
    return int(record[0]), int(record[1])


async def test_rows_another_consumer_committed_before_are_refused_by_the_key(
    ingest: Ingest, pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    venue = uuid.uuid4()
    events = [checkin(uuid.uuid4(), venue, now - minutes(n)) for n in range(20)]
    # The partition's previous owner stored five of them before this consumer got the batch.
    await write_events(ingest, events[:5])

    outcome = await write_events(ingest, events)

    assert (outcome.stored, outcome.duplicates) == (15, 5)
    assert await stored(pool) == (20, 20)


async def test_two_consumers_writing_one_batch_at_once_store_each_row_once(
    ingest: Ingest, pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    venues = [uuid.uuid4() for _ in range(3)]
    events = [checkin(uuid.uuid4(), venues[n % 3], now - minutes(n)) for n in range(300)]
    # A rebalance hands a partition over while its old owner still writes: both write
    # overlapping batches concurrently, each on its own connection.
    first, second = await asyncio.gather(
        write_events(ingest, events[:200]), write_events(ingest, events[100:])
    )

    assert first.stored + second.stored == 300
    assert first.duplicates + second.duplicates == 100
    assert await stored(pool) == (300, 300)


async def test_a_retried_scan_carrying_the_first_time_is_refused_in_a_later_batch(
    ingest: Ingest, pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    person, venue = uuid.uuid4(), uuid.uuid4()
    first = checkin(person, venue, now - minutes(30))
    retried = checkin(person, venue, now - minutes(30), checkin_id=first.data.checkin_id)
    await write_events(ingest, [first])

    outcome = await write_events(ingest, [retried, checkin(uuid.uuid4(), venue, now - minutes(29))])

    assert (outcome.stored, outcome.duplicates) == (1, 1)
    assert await stored(pool) == (2, 2)


async def test_a_batch_holding_a_check_in_twice_keeps_the_earliest(
    ingest: Ingest, pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    person, venue = uuid.uuid4(), uuid.uuid4()
    first = checkin(person, venue, now - minutes(30))
    # Retried without a client scan time while checkin's Redis was down: a later time.
    retried = checkin(person, venue, now - minutes(28), checkin_id=first.data.checkin_id)

    outcome = await write_events(ingest, [retried, first])

    assert (outcome.stored, outcome.duplicates) == (1, 1)
    kept = await pool.fetchval(
        "SELECT checked_in_at FROM tracing.checkins WHERE checkin_id = $1", first.data.checkin_id
    )
    assert kept == first.data.checked_in_at


async def test_each_venues_latest_check_in_is_raised_by_newer_rows_only(
    ingest: Ingest, pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    busy, quiet = uuid.uuid4(), uuid.uuid4()

    async def latest() -> dict[uuid.UUID, datetime]:
        found = await pool.fetch(
            "SELECT venue_id, last_checkin_at FROM tracing.venue_activity WHERE venue_id = ANY($1::uuid[])",
            [busy, quiet],
        )
        return {r["venue_id"]: r["last_checkin_at"] for r in found}

    early = [checkin(uuid.uuid4(), busy, now - minutes(n)) for n in (50, 40, 45)]
    await write_events(ingest, [*early, checkin(uuid.uuid4(), quiet, now - minutes(90))])
    assert await latest() == {busy: now - minutes(40), quiet: now - minutes(90)}

    # Older rows, and a redelivery of the batch's newest row, leave each venue's latest alone.
    outcome = await write_events(ingest, [checkin(uuid.uuid4(), busy, now - minutes(55)), early[1]])
    assert (outcome.stored, outcome.duplicates) == (1, 1)
    assert await latest() == {busy: now - minutes(40), quiet: now - minutes(90)}

    await write_events(ingest, [early[0], checkin(uuid.uuid4(), busy, now - minutes(5))])
    assert await latest() == {busy: now - minutes(5), quiet: now - minutes(90)}

"""Writing a probed batch: rows stored meanwhile, by another consumer or by the batch before."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from services.tracing import wire
from services.tracing.models import CheckinRow
from services.tracing.service import TracingService
from shared.events import CheckinRecorded
from tests.integration.tracing.timeline import checkin, minutes


def rows(events: list[CheckinRecorded]) -> list[CheckinRow]:
    found = [wire.row_of(e) for e in events]
    return [r for r in found if isinstance(r, CheckinRow)]


async def stored(pool: asyncpg.Pool) -> tuple[int, int]:
    """Rows in the store, and distinct checkin_ids among them."""
    record = await pool.fetchrow("SELECT count(*), count(DISTINCT checkin_id) FROM tracing.checkins")
    assert record is not None
    return int(record[0]), int(record[1])


async def test_rows_another_consumer_committed_after_the_probe_are_kept_once(
    pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    venue = uuid.uuid4()
    events = [checkin(uuid.uuid4(), venue, now - minutes(n)) for n in range(20)]
    found = await tracing.stored_checkin_ids(rows(events))
    assert found == set()
    # The partition's previous owner stores five of them before this write: the COPY meets
    # their keys, and the batch is written again through the merging statement.
    await tracing.ingest(events[:5])

    outcome = await tracing.store_checkins(rows(events), [], stored=found)

    assert (outcome.stored, outcome.duplicates) == (15, 5)
    assert await stored(pool) == (20, 20)


async def test_a_batch_probed_while_the_one_before_was_written_leaves_its_checkin_ids_out(
    pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    person, other, venue = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first = checkin(person, venue, now - minutes(30))
    # The same scan retried later (checkin's Redis was down), and an unrelated check-in.
    retried = checkin(person, venue, now - minutes(28), checkin_id=first.data.checkin_id)
    later = checkin(other, venue, now - minutes(27))
    before, after = rows([first]), rows([retried, later])
    # The pipeline probes a batch while the one before it is still being written.
    found = await tracing.stored_checkin_ids(after)
    assert found == set()
    await tracing.ingest_rows(before, [])

    outcome = await tracing.store_checkins(after, [], stored=found | {r.checkin_id for r in before})

    assert (outcome.stored, outcome.duplicates) == (1, 1)
    assert await stored(pool) == (2, 2)
    kept = await pool.fetchval(
        "SELECT checked_in_at FROM tracing.checkins WHERE checkin_id = $1", first.data.checkin_id
    )
    assert kept == first.data.checked_in_at


async def test_a_batch_spanning_days_is_probed_a_day_at_a_time_and_finds_every_copy(
    pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    venue = uuid.uuid4()
    # Visits over six days, each stored once; then all of them again, retried two minutes later.
    events = [checkin(uuid.uuid4(), venue, now - minutes(60 * 20 * n)) for n in range(8)]
    await tracing.ingest(events)
    retried = [
        checkin(e.data.person_id, venue, e.data.checked_in_at + minutes(2), checkin_id=e.data.checkin_id)
        for e in events
    ]

    outcome = await tracing.ingest(retried)

    assert (outcome.stored, outcome.duplicates) == (0, 8)
    assert await stored(pool) == (8, 8)

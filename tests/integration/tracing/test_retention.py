"""Retention: nothing older than the period is stored or read, and old day partitions are dropped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from services.tracing.models import CheckinRow
from services.tracing.pipeline import Ingest
from services.tracing.service import TracingService
from services.tracing.store import Store
from tests.integration.tracing.timeline import checkin, minutes, partition_names, query, write_events


def row(person: uuid.UUID, venue: uuid.UUID, at: datetime) -> CheckinRow:
    return CheckinRow(
        checkin_id=uuid.uuid4(),
        person_id=person,
        venue_id=venue,
        method="self_scan",
        temperature_band=None,
        colour_at_checkin="green",
        inspector_id=None,
        guardian_id=None,
        checked_in_at=at,
    )


async def test_rows_older_than_the_period_are_never_read_and_their_days_are_dropped(
    pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=21)
    case, other, venue = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    old_day = (cutoff - timedelta(days=2)).date()
    stale = [
        # Two days past the period, in its own day partition.
        row(case, venue, cutoff - timedelta(days=2)),
        row(other, venue, cutoff - timedelta(days=2) + minutes(5)),
        # Minutes past the period: its partition still holds newer rows, so the query must filter it.
        row(case, venue, cutoff - minutes(20)),
        row(other, venue, cutoff - minutes(15)),
    ]
    fresh = [row(case, venue, cutoff + timedelta(hours=3)), row(other, venue, cutoff + timedelta(hours=3))]
    # Written behind ingestion's back (it refuses stale rows), as if the job had not run yet.
    days = sorted({r.checked_in_at.date() for r in stale + fresh})
    await Store(pool).checkins.write(stale + fresh, [], partitions=days)

    # Windows that reach back past the cutoff (within the allowed span).
    window = (cutoff - timedelta(hours=1), cutoff + timedelta(days=20))
    presence = await tracing.presence(case, venue, *window)
    own = await tracing.own_visits(case, *window)
    result = await tracing.contact_query(case, query(case, cutoff + minutes(1), cutoff + timedelta(hours=6)))

    assert sorted(p.checked_in_at for p in presence) == [r.checked_in_at for r in fresh]
    assert [v.checked_in_at for v in own] == [fresh[0].checked_in_at]
    # The case's visit at cutoff-20 min would still be running at the window's start; it is gone.
    assert [v.checked_in_at for v in result.case_visits] == [fresh[0].checked_in_at]
    assert [c.contact_checked_in_at for c in result.contacts] == [fresh[1].checked_in_at]

    created, dropped = await tracing.maintain()
    async with pool.acquire() as conn:
        names = await partition_names(pool)
        left = await conn.fetchval("SELECT min(checked_in_at) FROM tracing.checkins")

    assert f"checkins_p{old_day:%Y%m%d}" in dropped
    assert f"checkins_p{old_day:%Y%m%d}" not in names
    assert left > cutoff - timedelta(days=1)
    assert created == []  # made at start already


async def test_ingestion_refuses_checkins_older_than_the_period(
    ingest: Ingest, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    person, venue = uuid.uuid4(), uuid.uuid4()

    outcome = await write_events(
        ingest,
        [checkin(person, venue, now - timedelta(days=22)), checkin(person, venue, now - timedelta(hours=1))],
    )

    assert (outcome.stored, outcome.too_old) == (1, 1)


async def test_partitions_are_made_ahead_and_the_default_stays_empty(
    ingest: Ingest, pool: asyncpg.Pool, tracing: TracingService
) -> None:
    today = datetime.now(UTC).date()
    await write_events(ingest, [checkin(uuid.uuid4(), uuid.uuid4(), datetime.now(UTC) + timedelta(days=9))])

    async with pool.acquire() as conn:
        names = set(await partition_names(pool))
        in_default = await conn.fetchval("SELECT count(*) FROM tracing.checkins_default")

    for offset in (-1, 0, 1, 2):
        assert f"checkins_p{today + timedelta(days=offset):%Y%m%d}" in names
    assert f"checkins_p{today + timedelta(days=9):%Y%m%d}" in names  # made on demand
    assert in_default == 0

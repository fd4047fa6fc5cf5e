"""A stored query's contacts are the answer's JSON of them, on the query's row (tracing migration
0011): they read back equal (times, overlaps, today's venue names), the queries stored before it
keep their contacts in the answer's order, and retention deletes them with the query; the contacts
and the case visits are compressed with lz4 (0012, 0013)."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.tracing.app import MIGRATIONS
from services.tracing.models import CaseVisit, Contact, ContactQueryResult
from services.tracing.store import Store
from shared.db import migrate, migration_files
from shared.settings import InfraSettings
from tests.integration.tracing.timeline import query

JSON = 11


def contact(
    depth: int, overlap: float, *, person: uuid.UUID | None = None, venue: uuid.UUID | None = None
) -> Contact:
    # Microseconds that are not round, so that a time written without them would not read back.
    at = datetime(2026, 12, 1, 9, 0, 1, 610200, tzinfo=UTC)
    return Contact(
        person or uuid.uuid4(),
        venue or uuid.uuid4(),
        None,
        at,
        at - timedelta(minutes=5, microseconds=7),
        overlap,
        depth,
        uuid.uuid4(),
    )


async def test_contacts_stored_as_rows_before_0011_are_carried_over_in_order(
    infra: InfraSettings, tmp_path: Path
) -> None:
    for number, path in migration_files(MIGRATIONS):
        if number < JSON:
            shutil.copy(path, tmp_path / path.name)
    case, actor, query_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    low, high = uuid.UUID(int=1), uuid.UUID(int=2)
    # Ties on overlap go by person; depth 1 before depth 2; written in no particular order.
    expected = [
        contact(1, 30.0),
        contact(1, 12.5, person=low),
        contact(1, 12.5, person=high),
        contact(2, 40.0),
    ]
    pool = await asyncpg.create_pool(infra.postgres.url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            # The test's database comes migrated: the tracing schema is made again up to 0010.
            await conn.execute("DROP SCHEMA tracing CASCADE")
        await migrate(pool, "tracing", tmp_path)
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO tracing.contact_queries (query_id, requested_by, person_id, from_at, to_at,"
                " min_overlap_minutes, depth, case_visits, contact_count)"
                " VALUES ($1, $2, $3, now() - interval '1 day', now(), 1, 2, '[]', 4)",
                query_id,
                actor,
                case,
            )
            for c in reversed([expected[2], expected[0], expected[3], expected[1]]):
                await conn.execute(
                    "INSERT INTO tracing.query_contacts VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    query_id,
                    c.person_id,
                    c.venue_id,
                    c.contact_checked_in_at,
                    c.case_checked_in_at,
                    c.overlap_minutes,
                    c.depth,
                    c.via_person_id,
                )
        assert await migrate(pool, "tracing", MIGRATIONS) == [
            n for n, _ in migration_files(MIGRATIONS) if n >= JSON
        ]
        loaded = await Store(pool).contacts.load_query(query_id)
        async with pool.acquire() as conn:
            gone = await conn.fetchval("SELECT to_regclass('tracing.query_contacts')")
    finally:
        await pool.close()

    assert loaded is not None
    assert loaded.contacts == expected
    assert gone is None


async def test_retention_deletes_a_query_with_its_contacts_and_keeps_the_newer(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    now = datetime.now(UTC)
    case = uuid.uuid4()
    ids = []
    for age in (timedelta(days=30), timedelta(hours=1)):
        result = ContactQueryResult(
            query_id=uuid.uuid4(),
            requested_by=uuid.uuid4(),
            parameters=query(case, now - timedelta(days=2), now),
            case_visits=[],
            contacts=[contact(1, 20.0), contact(2, 5.0)],
            created_at=now - age,
        )
        await store.contacts.save_query(result, {"depth": 2})
        ids.append(result.query_id)

    assert await store.contacts.delete_queries_before(now - timedelta(days=21)) == 1
    assert await store.contacts.load_query(ids[0]) is None
    kept = await store.contacts.load_query(ids[1])
    assert kept is not None
    assert [(c.depth, c.overlap_minutes) for c in kept.contacts] == [(1, 20.0), (2, 5.0)]


async def test_a_saved_query_reads_back_equal_with_its_venues_named_as_they_are_now(
    pool: asyncpg.Pool,
) -> None:
    store = Store(pool)
    now = datetime.now(UTC)
    venue = uuid.uuid4()
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO tracing.venues (venue_id, region_code, name, category)"
            " VALUES ($1, '440106', 'Old', 'shop')",
            venue,
        )
    saved = [contact(1, 100 / 3, venue=venue), contact(1, 0.1 + 0.2), contact(2, 1e-7, venue=venue)]
    result = ContactQueryResult(
        query_id=uuid.uuid4(),
        requested_by=uuid.uuid4(),
        parameters=query(uuid.uuid4(), now - timedelta(days=2), now, depth=2),
        case_visits=[],
        contacts=saved,
        created_at=now,
    )
    await store.contacts.save_query(result, {"depth": 2})
    async with pool.acquire() as conn:
        await conn.execute("UPDATE tracing.venues SET name = 'New' WHERE venue_id = $1", venue)

    loaded = await store.contacts.load_query(result.query_id)

    assert loaded is not None
    assert loaded.contacts == [
        replace(saved[0], venue_name="New"),
        saved[1],
        replace(saved[2], venue_name="New"),
    ]
    assert [c.contact_checked_in_at.isoformat() for c in loaded.contacts] == [
        c.contact_checked_in_at.isoformat() for c in saved
    ]


async def test_a_saved_query_keeps_its_case_visits_and_contacts_compressed_with_lz4(
    pool: asyncpg.Pool,
) -> None:
    # Migrations 0012 and 0013: both values are over the 2 kB at which Postgres compresses, and
    # lz4 costs less CPU than the server's default pglz (a depth-1 answer saves ~5 kB of visits).
    async with pool.acquire() as conn:
        try:
            await conn.execute("SET default_toast_compression = lz4")
        except asyncpg.PostgresError:
            pytest.skip("this Postgres is built without lz4: the columns keep the default")
        await conn.execute("RESET default_toast_compression")
    now = datetime.now(UTC)
    visits = [
        CaseVisit(
            checkin_id=uuid.uuid4(),
            venue_id=uuid.uuid4(),
            venue_name=f"Venue {n}",
            checked_in_at=now - timedelta(hours=n + 1),
            ends_at=now - timedelta(hours=n),
            checked_out_at=None,
        )
        for n in range(20)
    ]
    result = ContactQueryResult(
        query_id=uuid.uuid4(),
        requested_by=uuid.uuid4(),
        parameters=query(uuid.uuid4(), now - timedelta(days=2), now),
        case_visits=visits,
        contacts=[contact(1, 30.0 - n / 10) for n in range(100)],
        created_at=now,
    )
    await Store(pool).contacts.save_query(result, {"depth": 1})

    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT pg_column_compression(case_visits) AS visits, pg_column_compression(contacts) AS contacts"
            " FROM tracing.contact_queries WHERE query_id = $1",
            result.query_id,
        )
    assert row is not None
    assert (row["visits"], row["contacts"]) == ("lz4", "lz4")

"""Benchmark of the tracing store: venue presence and contact queries on a synthetic history.

Not a test (pytest does not collect ``bench_*``). It builds a dedicated database
(``venuecode_bench`` by default), applies the tracing migrations, generates the
check-ins INSIDE Postgres with generate_series (day by day into the day
partitions), adds cases with about 20 visits each, and times the store's own
functions with asyncpg::

    .venv/bin/python -m tests.bench.bench_contacts --rows 20000000   # the full size
    .venv/bin/python -m tests.bench.bench_contacts --rows 1500000    # a smoke run
    .venv/bin/python -m tests.bench.bench_contacts --reuse           # query again, no reload
    .venv/bin/venuecode bench contacts                               # the CLI entry (full size)

It prints p50 and p99 (milliseconds) of venue presence (one day), depth-1 and
depth-2 contact queries over the retention window.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from services.tracing import store, store_contacts
from services.tracing.app import MIGRATIONS
from services.tracing.models import QueryParameters
from shared.db import migrate

# Person and venue ids are made from integers so that the data is reproducible:
# venues live under a different leading word than people.
PERSON_UUID = "lpad(to_hex({n}), 32, '0')::uuid"
VENUE_UUID = "('00000001' || lpad(to_hex({n}), 24, '0'))::uuid"
CASE_VISITS = 20  # "cases with about 20 visits" (issue 6)


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(url: str, args: argparse.Namespace) -> None:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2, command_timeout=None)
    assert pool is not None
    now = datetime.now(UTC)
    try:
        await migrate(pool, "tracing", MIGRATIONS)
        async with pool.acquire() as conn:
            today = now.date()
            days = [today - timedelta(days=n) for n in range(args.days + 1)]
            await store.ensure_partitions(conn, days)
            started = time.perf_counter()
            await conn.execute(
                "INSERT INTO tracing.venues (venue_id, region_code, name, category, typical_stay_minutes)"
                f" SELECT {VENUE_UUID.format(n='n')}, '440106', 'venue ' || n,"
                " (ARRAY['shop','restaurant','market','office'])[1 + n % 4],"
                " (ARRAY[20, 90, 45, 480])[1 + n % 4]"
                " FROM generate_series(1, $1) AS n",
                args.venues,
            )
            per_day = args.rows // args.days
            for day in range(args.days):
                # Uniform people and venues over one day each; 30 % check out within an hour.
                await conn.execute(
                    "INSERT INTO tracing.checkins (checkin_id, person_id, venue_id, method,"
                    " temperature_band, colour_at_checkin, checked_in_at, checked_out_at)"
                    f" SELECT gen_random_uuid(), {PERSON_UUID.format(n='1 + (random() * ($2 - 1))::int')},"
                    f" {VENUE_UUID.format(n='1 + (random() * ($3 - 1))::int')},"
                    " 'self_scan', 'normal', 'green',"
                    " t, CASE WHEN random() < 0.3 THEN t + random() * interval '60 minutes' END"
                    " FROM (SELECT $4::timestamptz - (($5 + random()) * interval '1 day') AS t"
                    "       FROM generate_series(1, $1)) AS g",
                    per_day,
                    args.people,
                    args.venues,
                    now,
                    day,
                )
                print(f"  day {day + 1}/{args.days}: {per_day * (day + 1):,} rows", flush=True)
            # The cases: people numbered above the population, 20 visits each over the period.
            await conn.execute(
                "INSERT INTO tracing.checkins (checkin_id, person_id, venue_id, method,"
                " colour_at_checkin, checked_in_at)"
                f" SELECT gen_random_uuid(), {PERSON_UUID.format(n='$2 + c')},"
                f" {VENUE_UUID.format(n='1 + (random() * ($3 - 1))::int')}, 'self_scan', 'green',"
                " $4::timestamptz - random() * ($5 * interval '1 day')"
                " FROM generate_series(1, $1) AS c, generate_series(1, $6) AS v",
                args.cases,
                args.people,
                args.venues,
                now,
                args.days - 1,
                CASE_VISITS,
            )
            await conn.execute("ANALYZE tracing.checkins")
            await conn.execute("ANALYZE tracing.venues")
            total = await conn.fetchval("SELECT count(*) FROM tracing.checkins")
            print(f"loaded {total:,} check-ins in {time.perf_counter() - started:.0f} s")
    finally:
        await pool.close()


async def measure(url: str, args: argparse.Namespace) -> None:
    conn = await asyncpg.connect(url)
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=args.days)
    timings: dict[str, list[float]] = {"presence (1 day)": [], "contacts depth 1": [], "contacts depth 2": []}
    found = {"presence (1 day)": 0, "contacts depth 1": 0, "contacts depth 2": 0}
    try:
        for i in range(args.samples):
            venue = await conn.fetchval(
                f"SELECT {VENUE_UUID.format(n='$1::int')}", 1 + (i * 7919) % args.venues
            )
            started = time.perf_counter()
            rows = await store.venue_presence(
                conn, venue, now - timedelta(days=2), now - timedelta(days=1), cutoff
            )
            timings["presence (1 day)"].append(time.perf_counter() - started)
            found["presence (1 day)"] += len(rows)
        for c in range(1, min(args.cases, args.samples) + 1):
            case = await conn.fetchval(f"SELECT {PERSON_UUID.format(n='$1::int')}", args.people + c)
            for depth in (1, 2):
                q = QueryParameters(
                    person_id=case,
                    from_at=now - timedelta(days=args.days - 1),
                    to_at=now,
                    dwell_minutes=None,
                    min_overlap_minutes=1,
                    depth=depth,
                )
                started = time.perf_counter()
                await store_contacts.case_visits(conn, q, cutoff)
                first = await store_contacts.contacts_depth_1(conn, q, cutoff)
                second = await store_contacts.contacts_depth_2(conn, q, first, cutoff) if depth == 2 else []
                key = f"contacts depth {depth}"
                timings[key].append(time.perf_counter() - started)
                found[key] += len(first) + len(second)
    finally:
        await conn.close()
    print(f"{'query':<20} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'mean rows':>10}")
    for name, samples in timings.items():
        if samples:
            print(
                f"{name:<20} {len(samples):>5} {statistics.median(samples) * 1000:>9.1f}"
                f" {_percentile(samples, 0.99) * 1000:>9.1f} {found[name] / len(samples):>10.1f}"
            )


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="venuecode_bench")
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--venues", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--reuse", action="store_true", help="query the existing database, do not reload")
    args = parser.parse_args(argv)
    url = _with_database(args.admin_url, args.database)
    if not args.reuse:
        admin = await asyncpg.connect(args.admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{args.database}"')
        finally:
            await admin.close()
        size = f"{args.rows:,} check-ins, {args.venues:,} venues, {args.people:,} people"
        print(f"loading {size}, {args.days} days")
        await load(url, args)
    await measure(url, args)


if __name__ == "__main__":
    asyncio.run(main())

"""The stores of ``venuecode bench contacts``, generated inside Postgres (uniform or skewed), and
``World``: what a loaded store is, as the queries read it.

Ids are made from integers so that the queries need no lookup: person n is lpad(to_hex(n), 32, '0'),
venue n the same under a leading word of 00000001 (``person_id`` and ``venue_id`` are the Python
forms). The draws are seeded (``--seed``: Postgres's ``setseed`` on the one connection that loads,
whose statements run one after another), so a store loaded again, on another machine (Postgres 15
and newer share one generator) or by someone checking a figure, holds the same people at the same
venues at the same offsets from its load time; only the check-in ids and the load time differ.
Unseeded, two loads of the skewed store gave their cases' largest depth-2 answers of 9,332 and
18,980 contacts.

Two datasets. **uniform**: every venue equally popular. **skewed**: venue popularity Zipf-like,
P(n) ~ n^-0.6, drawn by inverting the continuous form of its distribution; of 20 M check-ins
over 200 k venues and 21 days, venue 1 (a railway station) gets ~2,300 a day, venue 10 ~580,
venue 100 ~150, and the median venue a handful: "a few stations and malls with thousands of
check-ins a day" (issue 14). The cases visit venues picked the same way, so their contacts
include those crowds: the hard case for depth 2. (Zipf with exponent 1 gave venue 1 ~78 k a
day, and a depth-2 query over a 20-day window ran for minutes: its answer alone is a city.)
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import asyncpg

from services.bench.env import TRACING_MIGRATIONS, Infra
from services.tracing.models import QueryParameters
from services.tracing.store import Store
from shared.db import migrate, with_database
from shared.progress import progress

Dataset = Literal["uniform", "skewed"]
DATASETS: tuple[Dataset, ...] = ("uniform", "skewed")
# The SQL of a venue number in 1..$3 for each dataset (see the module docstring).
VENUE_PICK: dict[Dataset, str] = {
    "uniform": "1 + (random() * ($3 - 1))::int",
    "skewed": "LEAST($3::int, floor(power(random() * (power($3::int, 0.4) - 1) + 1, 2.5))::int)",
}
INSERT_VENUES = """
INSERT INTO tracing.venues (venue_id, region_code, name, category, typical_stay_minutes)
SELECT ('00000001' || lpad(to_hex(n), 24, '0'))::uuid, '440106', 'venue ' || n,
       (ARRAY['shop', 'restaurant', 'market', 'office'])[1 + n % 4], (ARRAY[20, 90, 45, 480])[1 + n % 4]
FROM generate_series(1, $1) AS n
"""
# One day ($5 days back from $4) of $1 check-ins by uniform people ($2) at venues ($3) picked by
# the dataset's {pick}; 30 % check out within an hour.
INSERT_DAY = """
INSERT INTO tracing.checkins (checkin_id, person_id, venue_id, method, temperature_band,
                              colour_at_checkin, checked_in_at, checked_out_at)
SELECT gen_random_uuid(), lpad(to_hex(1 + (random() * ($2 - 1))::int), 32, '0')::uuid,
       ('00000001' || lpad(to_hex({pick}), 24, '0'))::uuid,
       'self_scan', 'normal', 'green',
       t, CASE WHEN random() < 0.3 THEN t + random() * interval '60 minutes' END
FROM (SELECT $4::timestamptz - (($5 + random()) * interval '1 day') AS t FROM generate_series(1, $1)) AS g
"""
# The cases: $1 people numbered above the population, $6 visits each over $5 days.
INSERT_CASES = """
INSERT INTO tracing.checkins (checkin_id, person_id, venue_id, method, colour_at_checkin, checked_in_at)
SELECT gen_random_uuid(), lpad(to_hex($2 + c), 32, '0')::uuid,
       ('00000001' || lpad(to_hex({pick}), 24, '0'))::uuid, 'self_scan', 'green',
       $4::timestamptz - random() * ($5 * interval '1 day')
FROM generate_series(1, $1) AS c, generate_series(1, $6) AS v
"""
CASE_VISITS = 20  # "cases with about 20 visits" (issue 6)


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of what is loaded and where it is kept."""
    parser.add_argument("--rows", type=int, default=20_000_000, help="check-ins (default 20 M)")
    parser.add_argument("--venues", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--cases", type=int, default=100, help="cases with 20 visits each (default 100)")
    parser.add_argument(
        "--database",
        default="venuecode_bench",
        help="kept between runs (default venuecode_bench; the skewed store adds _skewed)",
    )
    parser.add_argument(
        "--datasets", default=",".join(DATASETS), help="uniform, skewed or both (default both)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="query the database loaded before, do not reload"
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=0.5,
        help="seed of the store's random draws, -1 to 1 (Postgres's setseed; default 0.5): the same"
        " seed and sizes load the same store",
    )


def _seed(text: str) -> float:
    seed = float(text)
    if not -1.0 <= seed <= 1.0:
        raise argparse.ArgumentTypeError(f"a seed is between -1 and 1, not {text}")
    return seed


def person_id(n: int) -> uuid.UUID:
    return uuid.UUID(f"{n:032x}")


def venue_id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000001{n:024x}")


def database_of(args: argparse.Namespace, dataset: Dataset) -> str:
    """The kept database of a dataset: ``--database`` for uniform, with ``_skewed`` for skewed."""
    return str(args.database) if dataset == "uniform" else f"{args.database}_skewed"


async def load(url: str, args: argparse.Namespace, dataset: Dataset) -> None:
    """Generate the store inside Postgres; the load time is kept in ``bench_meta`` for the windows."""
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2, command_timeout=None)
    assert pool is not None
    pick = VENUE_PICK[dataset]
    try:
        await migrate(pool, "tracing", TRACING_MIGRATIONS)
        now = datetime.now(UTC)
        await Store(pool).checkins.ensure_partitions(
            [now.date() - timedelta(days=n) for n in range(args.days + 1)]
        )
        # A connection of its own for the load's long statements.
        conn = await asyncpg.connect(url, command_timeout=None)
        try:
            started = time.perf_counter()
            await conn.execute("SELECT setseed($1)", args.seed)
            await conn.execute(INSERT_VENUES, args.venues)
            per_day = args.rows // args.days
            # One INSERT a day of rows: the bar moves a day at a time (the 20 M-row store took
            # 701 s to load, silent until the bar).
            with progress(f"loading {dataset} check-ins", total=per_day * args.days, unit="row") as bar:
                for day in range(args.days):
                    await conn.execute(
                        INSERT_DAY.format(pick=pick), per_day, args.people, args.venues, now, day
                    )
                    bar.update(per_day)
            await conn.execute(
                INSERT_CASES.format(pick=pick),
                args.cases,
                args.people,
                args.venues,
                now,
                args.days - 1,
                CASE_VISITS,
            )
            # VACUUM as well as ANALYZE: what autovacuum does to an insert-only day partition
            # soon after it fills (autovacuum_vacuum_insert_threshold), here at once, so the
            # contact queries' index-only scans find the pages all-visible as a running store's
            # older days are (the machine's Postgres may run with autovacuum off).
            await conn.execute("VACUUM (ANALYZE) tracing.checkins")
            await conn.execute("ANALYZE tracing.venues")
            await conn.execute(
                "CREATE TABLE public.bench_meta AS SELECT $1::timestamptz AS loaded_at,"
                " $2::int AS people, $3::int AS venues, $4::int AS days, $5::int AS cases",
                now,
                args.people,
                args.venues,
                args.days,
                args.cases,
            )
            total = await conn.fetchval("SELECT count(*) FROM tracing.checkins")
            print(
                f"loaded {total:,} {dataset} check-ins in {time.perf_counter() - started:.0f} s", flush=True
            )
        finally:
            await conn.close()
    finally:
        await pool.close()


async def prepare(env_infra: Infra, args: argparse.Namespace, dataset: Dataset) -> str:
    """The kept bench database of a dataset, loaded now unless ``--reuse``."""
    name = database_of(args, dataset)
    url = with_database(env_infra.postgres_admin, name)
    if args.reuse:
        return url
    admin = await asyncpg.connect(env_infra.postgres_admin)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    print(
        f"contacts: loading {args.rows:,} {dataset} check-ins, {args.venues:,} venues,"
        f" {args.people:,} people, {args.days} days into {name} (seed {args.seed})",
        flush=True,
    )
    await load(url, args, dataset)
    return url


class World:
    """What the loaded store is: its load time (the queries' "now") and its sizes."""

    def __init__(self, row: asyncpg.Record, rows: int) -> None:
        self.loaded_at: datetime = row["loaded_at"]
        self.people: int = row["people"]
        self.venues: int = row["venues"]
        self.days: int = row["days"]
        self.cases: int = row["cases"]
        self.rows = rows
        # The server keeps rows for its retention period from the real clock: long enough that
        # nothing of this store is cut off however long after the load it is queried.
        age_days = (datetime.now(UTC) - self.loaded_at).days
        self.retention_days = self.days + age_days + 2
        self.cutoff = datetime.now(UTC) - timedelta(days=self.retention_days)

    def venue_sample(self, i: int) -> uuid.UUID:
        return venue_id(1 + (i * 7919) % self.venues)

    def case(self, c: int) -> uuid.UUID:
        return person_id(self.people + 1 + c % self.cases)

    def presence_window(self) -> tuple[datetime, datetime]:
        return self.loaded_at - timedelta(days=2), self.loaded_at - timedelta(days=1)

    def query(self, c: int, depth: int) -> QueryParameters:
        return QueryParameters(
            person_id=self.case(c),
            from_at=self.loaded_at - timedelta(days=self.days - 1),
            to_at=self.loaded_at,
            dwell_minutes=None,
            min_overlap_minutes=1,
            depth=depth,
        )


def contact_query(q: QueryParameters) -> dict[str, Any]:
    """The body of ``POST /contact-queries`` asking what ``q`` asks of the store."""
    return {
        "person_id": str(q.person_id),
        "from": q.from_at.isoformat(),
        "to": q.to_at.isoformat(),
        "min_overlap_minutes": q.min_overlap_minutes,
        "depth": q.depth,
    }


async def world_of(url: str, args: argparse.Namespace) -> World:
    conn = await asyncpg.connect(url)
    try:
        meta = await conn.fetchrow("SELECT * FROM public.bench_meta")
        if meta is None:
            raise SystemExit(f"{url.rsplit('/', 1)[-1]} has no bench_meta: load it first (without --reuse)")
        count = await conn.fetchval("SELECT count(*) FROM tracing.checkins")
    finally:
        await conn.close()
    return World(meta, count)

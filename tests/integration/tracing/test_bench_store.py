"""The contact benchmark's store is reproducible: its draws are seeded (``contacts_load.load``),
so a figure quoted from it can be checked against the same rows by loading again."""

from __future__ import annotations

import argparse
from collections import Counter

import asyncpg

from services.bench.contacts_load import load, venue_id

# Each check-in as what a contact query answers from: who, where, and when relative to the load.
_ROWS = """
SELECT c.person_id, c.venue_id, m.loaded_at - c.checked_in_at AS age,
       c.checked_out_at - c.checked_in_at AS stay
FROM tracing.checkins AS c, public.bench_meta AS m
"""
_EMPTY = "TRUNCATE tracing.checkins, tracing.venues; DROP TABLE public.bench_meta"

Store = Counter[tuple[object, ...]]


def _sizes(seed: float) -> argparse.Namespace:
    return argparse.Namespace(rows=6_000, venues=300, people=2_000, days=3, cases=4, seed=seed)


async def _load(url: str, seed: float) -> Store:
    await load(url, _sizes(seed), "skewed")
    conn = await asyncpg.connect(url)
    try:
        store = Counter(tuple(r) for r in await conn.fetch(_ROWS))
        await conn.execute(_EMPTY)
    finally:
        await conn.close()
    return store


async def test_one_seed_loads_the_same_store_and_another_seed_another(database_url: str) -> None:
    first = await _load(database_url, 0.5)
    again = await _load(database_url, 0.5)
    other = await _load(database_url, -0.25)

    assert sum(first.values()) == 6_000 + 4 * 20  # the days' check-ins and the cases' visits
    assert again == first
    assert other != first
    # Skewed as the store is meant to be: venue 1, the station, is the busiest, far above the
    # 20 check-ins a venue of a uniform store would get.
    by_venue = Counter(row[1] for row in first.elements())
    busiest, count = by_venue.most_common(1)[0]
    assert busiest == venue_id(1)
    assert count > 10 * 20

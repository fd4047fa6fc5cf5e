"""Benchmark 3, continued: common exposures of 50 cases, SQL alone beside ``POST /exposure-analyses``.

Run by ``venuecode bench contacts`` on the same store and in the same runs as the
contact queries (``contacts.py``): each sample asks for the shared venue-windows of
50 of the store's cases over its whole span (every case's 20 visits), with a
30-minute gap. The SQL side runs the two statements the service runs; the HTTP
side adds authentication, validation, the stored analysis, its audit and JSON.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import asyncpg
import orjson

from services.bench.loadgen import Connection, json_post
from services.tracing.app import SESSION_SETTINGS
from services.tracing.models_outbreaks import VisitWindow
from services.tracing.store import Store

if TYPE_CHECKING:
    from services.bench.contacts_load import World

CASES_PER_ANALYSIS = 50  # the question: "p99 for 50 cases"
GAP_MINUTES = 30
EXPOSURES = f"exposures ({CASES_PER_ANALYSIS} cases)"
PATH = "/api/tracing/v1/exposure-analyses"


def cases(world: World, sample: int) -> list[uuid.UUID]:
    """50 different cases (all of them when the store has fewer), a different set each sample."""
    count = min(CASES_PER_ANALYSIS, world.cases)
    return [world.case(sample * 7 + k) for k in range(count)]


async def sql_side(url: str, world: World, samples: int) -> tuple[list[float], int]:
    """Seconds per analysis, and the shared venue-windows found in all, on one connection.

    The samples run twice and the second pass is kept: as for the contact queries, the
    pages read are in memory then, so neither side is timed on a cold cache.
    """
    # One connection with the service pool's session settings.
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1, server_settings=SESSION_SETTINGS)
    outbreaks = Store(pool).outbreaks
    q = world.query(0, 1)
    window = VisitWindow(q.from_at, q.to_at, None, world.cutoff)
    spent: list[float] = []
    found = 0
    try:
        for i in [*range(samples), *range(samples)]:
            group = cases(world, i)
            started = time.perf_counter()
            shared = await outbreaks.shared_exposures(group, window, gap_minutes=GAP_MINUTES)
            await outbreaks.case_timelines(group, window)
            spent.append(time.perf_counter() - started)
            found += len(shared)
    finally:
        await pool.close()
    return spent[samples:], found // 2


async def http_side(port: int, token: str, world: World, samples: int) -> list[float]:
    """Seconds per ``POST /exposure-analyses`` on one keep-alive connection."""
    q = world.query(0, 1)
    headers = {"Authorization": f"Bearer {token}"}
    connection = await Connection.open("127.0.0.1", port)
    spent: list[float] = []
    try:
        for i in range(samples):
            body = orjson.dumps(
                {
                    "person_ids": [str(c) for c in cases(world, i)],
                    "from": q.from_at.isoformat(),
                    "to": q.to_at.isoformat(),
                    "gap_minutes": GAP_MINUTES,
                }
            )
            started = time.perf_counter()
            status = await connection.request(json_post("127.0.0.1", PATH, body, headers))
            spent.append(time.perf_counter() - started)
            if status != 201:
                raise RuntimeError(f"{EXPOSURES}: HTTP {status}")
    finally:
        connection.close()
    return spent

"""Benchmark 3, continued: each contact-query kind alone at ``--concurrency``, with the CPU it cost.

The mixed run of ``contacts.py`` (presence, depth 1 and depth 2 in one queue of 16) shows what an
epidemiologists' office sees, but its depth-1 latency is mostly the depth-2 queries ahead of it.
Here each kind has a phase of its own: ``--phase-samples`` queries (default 100, cycling through the
store's cases), sent once untimed (plans, pages) and then timed, ``--concurrency`` in flight. For
each phase it measures, from /proc, the CPU of the API process (uvicorn and its workers), of the
Postgres client backends of the bench's database, of the load generator (this process), and what
else the machine's cores did meanwhile (other work: nothing of this bench), each per query.

The floor: with ``N`` queries in flight (a closed loop) Little's law gives a mean latency of
``N / throughput``, and the throughput is at most ``cores / (api + postgres CPU per query)``, and
``1 / api CPU per query`` for one API worker (Python runs on one core at a time). So the mean latency
cannot be below ``N * max((api + pg) / cores, api / workers)``; a p99 is above its mean.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson

from services.bench.contacts_load import contact_query
from services.bench.env import Server, _cpu_jiffies, _cpu_s, _own_cpu_s
from services.bench.loadgen import Connection, json_post
from services.bench.stats import median, percentile

if TYPE_CHECKING:
    from services.bench.contacts_load import World

PATH = "/api/tracing/v1/contact-queries"
_BACKENDS = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
"""


# What the phase's answers held: the service saves each query with its contact count.
_ANSWERS = """
SELECT avg(contact_count)::float8, max(contact_count) FROM tracing.contact_queries
WHERE depth = $1 AND created_at >= $2
"""


async def answers_since(url: str, depth: int, since: datetime) -> tuple[float, int]:
    """Mean and largest contact count of the queries of ``depth`` saved since ``since``."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(_ANSWERS, depth, since)
    finally:
        await conn.close()
    assert row is not None
    return float(row[0] or 0.0), int(row[1] or 0)


async def backend_cpu_s(url: str) -> dict[int, float]:
    """CPU seconds so far of each client backend of the database (the API's pooled sessions)."""
    conn = await asyncpg.connect(url)
    try:
        pids = [r["pid"] for r in await conn.fetch(_BACKENDS)]
    finally:
        await conn.close()
    return {pid: _cpu_s(pid) for pid in pids}


@dataclass
class CpuSnapshot:
    api_s: float
    backends: dict[int, float]
    machine_busy_s: float
    own_s: float
    wall_s: float

    @classmethod
    async def take(cls, server: Server, url: str) -> CpuSnapshot:
        backends = await backend_cpu_s(url)
        busy = _cpu_jiffies()[0] / os.sysconf("SC_CLK_TCK")
        return cls(server.cpu_seconds(), backends, busy, _own_cpu_s(), time.perf_counter())


def cpu_per_query(
    before: CpuSnapshot, after: CpuSnapshot, *, queries: int, concurrency: int, cores: int | None = None
) -> dict[str, float]:
    """CPU milliseconds per query of each party between two snapshots, and the floor of the mean."""
    api = after.api_s - before.api_s
    # A backend that began during the phase spent all of its CPU in it (pool growth).
    pg = sum(spent - before.backends.get(pid, 0.0) for pid, spent in after.backends.items())
    own = after.own_s - before.own_s
    other = max(0.0, after.machine_busy_s - before.machine_busy_s - api - pg - own)
    wall = after.wall_s - before.wall_s
    cores = cores or os.cpu_count() or 1
    per = 1000 / max(queries, 1)
    floor = concurrency * max((api + pg) / cores, api) * per
    return {
        "queries_per_s": queries / wall if wall > 0 else float("nan"),
        "api_cpu_ms": api * per,
        "pg_cpu_ms": pg * per,
        "loadgen_cpu_ms": own * per,
        "other_cpu_ms": other * per,
        "floor_mean_ms": floor,
        "mean_by_little_ms": concurrency * wall * per,
    }


def requests_of(token: str, world: World, depth: int, samples: int) -> list[tuple[str, bytes]]:
    headers = {"Authorization": f"Bearer {token}"}
    name = f"depth {depth}"
    return [
        (name, json_post("127.0.0.1", PATH, orjson.dumps(contact_query(world.query(c, depth))), headers))
        for c in range(samples)
    ]


async def send_all(
    port: int, requests: Sequence[tuple[str, bytes]], concurrency: int, timings: dict[str, list[float]]
) -> None:
    """``concurrency`` keep-alive connections, each taking the next (name, request) when its last
    answer came; the seconds of each answer go to ``timings[name]`` (a latency includes queueing)."""
    pending = list(reversed(requests))

    async def client() -> None:
        connection = await Connection.open("127.0.0.1", port)
        try:
            while pending:
                name, data = pending.pop()
                began = time.perf_counter()
                status = await connection.request(data)
                spent = time.perf_counter() - began
                if status not in (200, 201):
                    raise RuntimeError(f"{name}: HTTP {status}")
                timings.setdefault(name, []).append(spent)
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))


async def phases(
    server: Server, *, url: str, token: str, world: World, samples: int, concurrency: int
) -> list[dict[str, Any]]:
    """Depth 1 alone, then depth 2 alone: latency and CPU per query of each."""
    rows = []
    for depth in (1, 2):
        requests = requests_of(token, world, depth, samples)
        await send_all(server.port, requests, concurrency, {})
        before = await CpuSnapshot.take(server, url)
        began = datetime.now(UTC)
        timings: dict[str, list[float]] = {}
        await send_all(server.port, requests, concurrency, timings)
        after = await CpuSnapshot.take(server, url)
        spent = timings[f"depth {depth}"]
        mean_contacts, most_contacts = await answers_since(url, depth, began)
        rows.append(
            {
                "phase": f"depth {depth} alone",
                "queries": len(spent),
                "mean_contacts": mean_contacts,
                "max_contacts": most_contacts,
                "p50_ms": percentile(spent, 0.5) * 1000,
                "p99_ms": percentile(spent, 0.99) * 1000,
                "max_ms": max(spent) * 1000,
                **cpu_per_query(before, after, queries=len(spent), concurrency=concurrency),
            }
        )
    return rows


COLUMNS = (
    "queries",
    "mean_contacts",
    "max_contacts",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "queries_per_s",
    "api_cpu_ms",
    "pg_cpu_ms",
    "loadgen_cpu_ms",
    "other_cpu_ms",
    "floor_mean_ms",
    "mean_by_little_ms",
)


def summarise(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians over the runs of each dataset's phases (mixed, depth 1 alone, depth 2 alone)."""
    found = [p for run in runs for p in run.get("phases", [])]
    keys = list(dict.fromkeys((p["dataset"], p["phase"]) for p in found))
    return [
        {
            "dataset": dataset,
            "phase": phase,
            **{
                k: median(
                    [
                        float(p.get(k, float("nan")))
                        for p in found
                        if (p["dataset"], p["phase"]) == (dataset, phase)
                    ]
                )
                for k in COLUMNS
            },
        }
        for dataset, phase in keys
    ]

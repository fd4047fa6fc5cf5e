"""Benchmark 3: venue presence and contact queries through the HTTP API, beside the same SQL over asyncpg.

Two stores (``contacts_load.py``), each by default 20 M check-ins: 200 k venues, 5 M people,
21 days, and 100 cases with 20 visits each; **uniform** (every venue alike) and **skewed**
(venue popularity Zipf-like: a few stations and malls with thousands of check-ins a day). Each
is generated INSIDE Postgres, day by day into the day partitions, in a database of its own
that is kept: loading 20 M rows takes about 20 minutes here, so ``--reuse`` queries them again
without loading. Windows are anchored at the load time recorded beside the data, so a reuse
days later asks the same questions of the same rows.

Each run times, for the same venues and cases:

* **SQL**: the tracing store's own methods (``services.tracing.store.Store``: ``checkins`` and
  ``contacts``) on one pooled asyncpg connection, one query at a time: the physical limit.
* **HTTP**: ``GET /venues/{id}/presence`` and ``POST /contact-queries`` on
  ``venuecode serve tracing``, ``--concurrency`` keep-alive connections at once (default
  16, as epidemiologists of a province would): the same SQL plus authentication,
  validation, the saved query and its audit record, and JSON, and the queueing of 16. The
  presence, depth-1 and depth-2 queries go into one queue (mixed), then depth 1 alone and
  depth 2 alone (``contacts_phases.py``), each with the CPU per query of the API process and of
  Postgres and the floor those put under the mean latency at ``--concurrency``.

Everything shares the machine's cores: one uvicorn worker (``VENUECODE_WORKERS=1``, as deploy/
runs it), Postgres, Redis, a private tansu, this load generator, and whatever else the machine
runs (the output gives each one's CPU per query in the phases, and the load average).
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import orjson

from services.bench import contacts_phases, exposures
from services.bench.contacts_load import (
    DATASETS,
    Dataset,
    World,
    add_store_arguments,
    contact_query,
    prepare,
    world_of,
)
from services.bench.env import (
    Infra,
    Machine,
    Server,
    Tansu,
    infra,
    service_env,
    service_server,
    write_results,
)
from services.bench.loadgen import json_post
from services.bench.stats import median, percentile, ratio, table
from services.tracing.models import QueryParameters
from services.tracing.store import SESSION_SETTINGS, Store
from shared.auth import AccessTokens
from shared.keys import load_keys
from shared.settings import InfraSettings

QUERIES = ("presence (1 day)", "contacts depth 1", "contacts depth 2", exposures.EXPOSURES)
SIDES = ("SQL", "HTTP")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3, help="repeats; medians are quoted (default 3)")
    add_store_arguments(parser)
    parser.add_argument("--samples", type=int, default=100, help="queries of each kind per run (default 100)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="HTTP queries in flight at once (default 16)"
    )
    parser.add_argument(
        "--phase-samples",
        type=int,
        default=100,
        help="queries in each phase of one kind alone (depth 1, depth 2; default 100, one per case)",
    )


Timings = dict[str, list[float]]


async def timed(
    timings: Timings, name: str, call: Callable[[], Awaitable[int]], found: dict[str, int]
) -> None:
    started = time.perf_counter()
    rows = await call()
    timings.setdefault(name, []).append(time.perf_counter() - started)
    found[name] = found.get(name, 0) + rows


async def sql_side(url: str, world: World, samples: int) -> tuple[Timings, dict[str, int]]:
    """The store's methods, exactly as the service calls them, on one pooled connection."""
    timings: Timings = {}
    found: dict[str, int] = {}
    # One connection with the service pool's session settings.
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1, server_settings=SESSION_SETTINGS)
    store = Store(pool)
    start, end = world.presence_window()
    try:
        for i in range(samples):
            venue = world.venue_sample(i)

            async def presence(venue: uuid.UUID = venue) -> int:
                return len(await store.checkins.presence(venue, start, end, world.cutoff))

            await timed(timings, QUERIES[0], presence, found)
        for c in range(samples):
            for depth in (1, 2):
                q = world.query(c, depth)

                async def contacts(q: QueryParameters = q) -> int:
                    await store.contacts.case_visits(q, world.cutoff)
                    first = await store.contacts.contacts_depth_1(q, world.cutoff)
                    if q.depth == 1:
                        return len(first)
                    return len(first) + len(await store.contacts.contacts_depth_2(q, first, world.cutoff))

                await timed(timings, QUERIES[depth], contacts, found)
    finally:
        await pool.close()
    return timings, found


def _stamp(at: datetime) -> str:
    return quote(at.isoformat())


def requests_of(token: str, world: World, samples: int) -> list[tuple[str, bytes]]:
    """The HTTP side's requests: presence of sampled venues, then each case at depth 1 and 2."""
    headers = {"Authorization": f"Bearer {token}"}
    start, end = world.presence_window()
    out = []
    for i in range(samples):
        path = (
            f"/api/tracing/v1/venues/{world.venue_sample(i)}/presence?from={_stamp(start)}&to={_stamp(end)}"
        )
        out.append(
            (
                QUERIES[0],
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode(),
            )
        )
    for c in range(samples):
        for depth in (1, 2):
            body = orjson.dumps(contact_query(world.query(c, depth)))
            out.append(
                (QUERIES[depth], json_post("127.0.0.1", "/api/tracing/v1/contact-queries", body, headers))
            )
    return out


async def http_side(
    server: Server, *, url: str, token: str, world: World, samples: int, concurrency: int
) -> tuple[Timings, dict[str, float]]:
    """The same queries through the API, ``concurrency`` keep-alive connections at once, each
    taking the next request when its last answer came; a latency includes the queueing.

    An untimed pass of the same requests goes first, as on the SQL side: a fresh server's pool
    opens its connections (up to 10) under the load, and each connection plans each statement
    on its first execution (a generic plan over ~29 day partitions: 30-70 ms for a contact
    statement here), so without it most of 10 samples timed connection setup and planning,
    which a running service did long before, not the queries."""
    requests = requests_of(token, world, samples)
    await contacts_phases.send_all(server.port, requests, concurrency, {})
    timings: Timings = {}
    before = await contacts_phases.CpuSnapshot.take(server, url)
    await contacts_phases.send_all(server.port, requests, concurrency, timings)
    after = await contacts_phases.CpuSnapshot.take(server, url)
    return timings, contacts_phases.cpu_per_query(
        before, after, queries=len(requests), concurrency=concurrency
    )


async def agree(base_url: str, token: str, url: str, world: World) -> None:
    """The API finds what the SQL finds (a few cases, untimed): the two sides answer one question."""
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    contacts = Store(pool).contacts
    try:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            for c in range(3):
                q = world.query(c, 2)
                first = await contacts.contacts_depth_1(q, world.cutoff)
                second = await contacts.contacts_depth_2(q, first, world.cutoff)
                answer = (await client.post("/api/tracing/v1/contact-queries", json=contact_query(q))).json()
                if len(answer["contacts"]) != len(first) + len(second):
                    raise RuntimeError(
                        f"case {q.person_id}: the API found {len(answer['contacts'])} contacts,"
                        f" the SQL {len(first) + len(second)}"
                    )
    finally:
        await pool.close()


async def one_run(
    env_infra: Infra, url: str, world: World, args: argparse.Namespace, dataset: Dataset
) -> dict[str, Any]:
    # An untimed pass first reads the sampled pages into memory, so that neither side is
    # timed on a cold cache that the other then finds warm.
    await sql_side(url, world, args.samples)
    sql, found = await sql_side(url, world, args.samples)
    sql[exposures.EXPOSURES], found[exposures.EXPOSURES] = await exposures.sql_side(url, world, args.samples)
    namespace = f"b{uuid.uuid4().hex[:8]}."
    prefix = f"vcbench:{uuid.uuid4().hex[:8]}:"
    with Tansu(env_infra.workdir) as tansu:
        env = service_env(env_infra, url, tansu.bootstrap, namespace, prefix)
        env["VENUECODE_TRACING_RETENTION_DAYS"] = str(world.retention_days)
        settings = InfraSettings(state_dir=env_infra.keys_dir)
        token = AccessTokens(load_keys(settings).jwt, settings.jwt_audience, 3600).issue(
            uuid.uuid4(), ["epidemiologist"]
        )
        server = service_server("tracing", env, env_infra.workdir)
        await server.start("/api/tracing/readyz")
        try:
            await agree(server.base_url, token, url, world)
            http, mixed_cpu = await http_side(
                server, url=url, token=token, world=world, samples=args.samples, concurrency=args.concurrency
            )
            phases = await contacts_phases.phases(
                server,
                url=url,
                token=token,
                world=world,
                samples=args.phase_samples,
                concurrency=args.concurrency,
            )
            http[exposures.EXPOSURES] = await exposures.http_side(server.port, token, world, args.samples)
            rss = server.worker_rss_mb()
        finally:
            server.stop()
        await env_infra.drop_prefix(prefix)
    rows = []
    for name in QUERIES:
        for side, timings in (("SQL", sql), ("HTTP", http)):
            spent = timings.get(name, [])
            rows.append(
                {
                    "dataset": dataset,
                    "query": name,
                    "side": side,
                    "p50_ms": percentile(spent, 0.5) * 1000,
                    "p99_ms": percentile(spent, 0.99) * 1000,
                    # Rows are counted on the SQL side; ``agree`` checks the API finds the same.
                    "mean_rows": found.get(name, 0) / len(spent) if spent and side == "SQL" else float("nan"),
                }
            )
    mixed = {
        "phase": "mixed (latency above)",
        "queries": sum(len(http.get(q, [])) for q in QUERIES[:3]),
        **mixed_cpu,
    }
    for row in (mixed, *phases):
        row["dataset"] = dataset
    return {"rows": rows, "phases": [mixed, *phases], "worker_rss_mb": rss}


def summarise(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians over the runs of each dataset, query and side, then HTTP beside SQL."""
    summary = []
    datasets = list(dict.fromkeys(r.get("dataset", "uniform") for run in runs for r in run["rows"]))
    for dataset in datasets:
        for name in QUERIES:
            by_side: dict[str, dict[str, Any]] = {}
            for side in SIDES:
                found = [
                    r
                    for run in runs
                    for r in run["rows"]
                    if r["query"] == name and r["side"] == side and r.get("dataset", "uniform") == dataset
                ]
                by_side[side] = {
                    "dataset": dataset,
                    "query": name,
                    "side": side,
                    **{k: median([float(r[k]) for r in found]) for k in ("p50_ms", "p99_ms", "mean_rows")},
                }
                summary.append(by_side[side])
            summary.append(
                {
                    "dataset": dataset,
                    "query": name,
                    "side": "HTTP/SQL",
                    "p50_ms": ratio(by_side["HTTP"]["p50_ms"], by_side["SQL"]["p50_ms"]),
                    "p99_ms": ratio(by_side["HTTP"]["p99_ms"], by_side["SQL"]["p99_ms"]),
                }
            )
    return summary


def plot(summary: Sequence[dict[str, Any]], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [(r["dataset"], r["query"]) for r in summary if r["side"] == "SQL"]
    figure, axis = plt.subplots(figsize=(10, 4.5))
    width = 0.2
    for offset, (side, key, colour) in enumerate(
        (
            ("SQL", "p50_ms", "tab:blue"),
            ("SQL", "p99_ms", "lightsteelblue"),
            ("HTTP", "p50_ms", "tab:red"),
            ("HTTP", "p99_ms", "lightsalmon"),
        )
    ):
        values = [
            next(r[key] for r in summary if (r["dataset"], r["query"]) == group and r["side"] == side)
            for group in groups
        ]
        xs = [i + (offset - 1.5) * width for i in range(len(groups))]
        axis.bar(xs, values, width, label=f"{side} {key[:3]}", color=colour)
    axis.axhline(20, color="grey", linestyle="--", linewidth=1, label="depth-1 p99 target (20 ms)")
    axis.axhline(100, color="black", linestyle=":", linewidth=1, label="depth-2 p99 target (100 ms)")
    axis.set_xticks(range(len(groups)), [f"{d}\n{q}" for d, q in groups], fontsize=8)
    axis.set(ylabel="ms (median of runs)", title=title)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    machine = Machine.now()
    wanted = [d for d in DATASETS if d in str(args.datasets).split(",")]
    if not wanted:
        raise SystemExit(f"--datasets: one or more of {', '.join(DATASETS)}")
    runs: list[dict[str, Any]] = []
    stores: dict[str, int] = {}
    with infra() as env_infra:
        for dataset in wanted:
            url = await prepare(env_infra, args, dataset)
            world = await world_of(url, args)
            stores[dataset] = world.rows
            print(
                f"contacts: {world.rows:,} {dataset} check-ins loaded at {world.loaded_at:%Y-%m-%d %H:%M} UTC"
            )
            for index in range(args.runs):
                runs.append(await one_run(env_infra, url, world, args, dataset))
                print(f"contacts: {dataset} run {index + 1}/{args.runs} done", flush=True)
    machine.finish()
    summary = summarise(runs)
    rss = [m for run in runs for m in run["worker_rss_mb"]]
    print(
        f"machine: {machine.model or 'unknown CPU'}, {machine.cpus} cores; a million Python additions"
        f" in {machine.yardstick_ms:.0f} ms (the yardstick: lower is faster)"
    )
    print(f"SQL one query at a time; HTTP {args.concurrency} at once")
    print(table(summary, ["dataset", "query", "side", "p50_ms", "p99_ms", "mean_rows"]))
    print(f"tracing worker RSS after the queries: {max(rss) if rss else float('nan'):.0f} MB")
    phases = contacts_phases.summarise(runs)
    print(
        f"HTTP phases, {args.concurrency} in flight ({args.phase_samples} queries a phase of one kind,"
        f" {args.samples} of each kind mixed): latency, and CPU ms per query of the API process, of"
        " Postgres's backends, of this load generator and of everything else on the machine"
        f" ({os.cpu_count()} cores); floor_mean_ms = {args.concurrency} x max((api+pg)/cores, api)"
    )
    print(table(phases, ["dataset", "phase", *contacts_phases.COLUMNS]))
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    payload = {
        "benchmark": "contacts",
        "machine": machine.as_json(),
        "config": vars(args),
        "stores": stores,
        "summary": summary,
        "phases": phases,
        "tracing_worker_rss_mb": rss,
        "runs": runs,
    }
    title = (
        f"Contact queries, {args.rows / 1e6:.1f} M check-ins a store: SQL one at a time,"
        f" HTTP {args.concurrency} at once"
    )
    path = write_results(Path(args.out), "contacts", payload, lambda png: plot(summary, title, png))
    print(f"results: {path} (and .png)")
    return payload

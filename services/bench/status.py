"""Benchmark 4: colour reads for a group check-in and status updates, beside raw GET/SET.

Reads: ``shared.colours.read_colours`` for a family of ``--group`` people (one
MGET with the warm marker) against a single raw GET and a raw MGET of the same
keys, through the same redis-py client, one at a time (latency) and from many
tasks at once (throughput). Updates: ``PUT /api/status/v1/persons/{id}/status``
on ``venuecode serve status`` (Postgres, outbox, Redis, Kafka), and
``shared.colours.write_colours`` alone, against a raw SET through one client.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from redis.asyncio import Redis

from services.bench.env import Infra, Machine, Tansu, infra, service_env, service_server, write_results
from services.bench.loadgen import closed_loop, json_put
from services.bench.seed import people, send_events, wait_count
from services.bench.stats import median, percentile, ratio, table
from shared.auth import AccessTokens
from shared.colours import WARM_MARKER, CachedColour, colour_key, mark_warm, read_colours, write_colours
from shared.events import REGISTRY_TOPIC, topic
from shared.keys import load_keys
from shared.settings import InfraSettings

# Colour keys written before reading: a province holds far more, but a key's cost in Redis
# does not depend on how many others there are.
CACHED_PEOPLE = 10_000
# People the PUT loop cycles through (each needs a registry event first).
UPDATED_PEOPLE = 2000
SEED_DEADLINE_S = 120.0
Op = Callable[[int], Awaitable[object]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3, help="repeats; medians are quoted (default 3)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per throughput step (default 5)")
    parser.add_argument(
        "--calls", type=int, default=3000, help="one-at-a-time calls for latency (default 3000)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="tasks or connections at once (default 32)"
    )
    parser.add_argument("--group", type=int, default=4, help="people in a group check-in (default 4)")


async def latency(op: Op, calls: int) -> dict[str, float]:
    """One call at a time: p50/p99 in ms and calls a second."""
    spent: list[float] = []
    start = time.perf_counter()
    for i in range(calls):
        began = time.perf_counter()
        await op(i)
        spent.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - start
    return {
        "p50_ms": percentile(spent, 0.5) * 1000,
        "p99_ms": percentile(spent, 0.99) * 1000,
        "serial_per_s": calls / elapsed,
    }


async def throughput(op: Op, tasks: int, duration_s: float) -> float:
    """Calls a second from ``tasks`` concurrent loops sharing the client's connection pool."""
    done = 0
    deadline = time.perf_counter() + duration_s
    start = time.perf_counter()

    async def loop(offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() < deadline:
            await op(i)
            i += tasks
            done += 1

    await asyncio.gather(*(loop(t) for t in range(tasks)))
    return done / (time.perf_counter() - start)


async def redis_side(env_infra: Infra, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Reads and cache writes through one redis-py client, beside raw GET, MGET and SET."""
    prefix = f"vcbench:{uuid.uuid4().hex[:8]}:"
    redis = Redis.from_url(env_infra.redis_url, max_connections=args.concurrency * 2)
    ids = [uuid.uuid4() for _ in range(CACHED_PEOPLE)]
    group = args.group
    try:
        entries = {
            p: CachedColour(
                "yellow" if i % 10 == 0 else "green", "close_contact" if i % 10 == 0 else "none", 1
            )
            for i, p in enumerate(ids)
        }
        for start in range(0, len(ids), 1000):
            await write_colours(redis, prefix, {p: entries[p] for p in ids[start : start + 1000]})
        await mark_warm(redis, prefix)
        keys = [colour_key(prefix, p) for p in ids]
        value = entries[ids[0]].encode()
        serial = 10**9

        def family(i: int) -> list[uuid.UUID]:
            first = (i * group) % (len(ids) - group)
            return ids[first : first + group]

        def family_keys(i: int) -> list[str]:
            return [f"{prefix}{WARM_MARKER}", *(colour_key(prefix, p) for p in family(i))]

        ops: dict[str, Op] = {
            "read_colours (group)": lambda i: read_colours(redis, prefix, family(i)),
            "raw MGET (same keys)": lambda i: redis.mget(family_keys(i)),
            "raw GET (one key)": lambda i: redis.get(keys[i % len(keys)]),
            "write_colours (one)": lambda i: write_colours(
                redis, prefix, {ids[i % len(ids)]: CachedColour("red", "confirmed_case", serial + i)}
            ),
            "raw SET (one key)": lambda i: redis.set(keys[i % len(keys)], value),
        }
        rows = []
        for name, op in ops.items():
            measured = await latency(op, args.calls)
            measured["concurrent_per_s"] = await throughput(op, args.concurrency, args.duration)
            rows.append({"path": name, **measured})
        return rows
    finally:
        await redis.aclose()
        await env_infra.drop_prefix(prefix)


async def http_updates(env_infra: Infra, args: argparse.Namespace) -> dict[str, Any]:
    """PUT status through ``venuecode serve status`` from a closed loop of keep-alive connections."""
    namespace = f"b{uuid.uuid4().hex[:8]}."
    prefix = f"vcbench:{uuid.uuid4().hex[:8]}:"
    with Tansu(env_infra.workdir) as tansu:
        async with env_infra.database() as url:
            env = service_env(env_infra, url, tansu.bootstrap, namespace, prefix)
            settings = InfraSettings(state_dir=env_infra.keys_dir)
            keys = load_keys(settings)
            authority = AccessTokens(keys.jwt, settings.jwt_audience, 3600).issue(
                uuid.uuid4(), ["health_authority"]
            )
            server = service_server("status", env, env_infra.workdir)
            await server.start("/api/status/readyz")
            try:
                ids = [uuid.uuid4() for _ in range(UPDATED_PEOPLE)]
                await send_events(tansu.bootstrap, topic(REGISTRY_TOPIC, namespace), people(ids))
                await wait_count(url, "SELECT count(*) FROM status.people", len(ids), SEED_DEADLINE_S)
                bodies = [
                    orjson.dumps({"colour": "yellow", "reason": "close_contact"}),
                    orjson.dumps({"colour": "green", "reason": "none"}),
                ]
                headers = {"Authorization": f"Bearer {authority}"}

                def make(i: int) -> bytes:
                    path = f"/api/status/v1/persons/{ids[i % len(ids)]}/status"
                    return json_put("127.0.0.1", path, bodies[(i // len(ids)) % 2], headers)

                await closed_loop("127.0.0.1", server.port, make, 4, 1.0)  # warm-up
                one = await closed_loop("127.0.0.1", server.port, make, 1, args.duration)
                rss: list[float] = []

                async def sample() -> None:
                    await asyncio.sleep(args.duration / 2)
                    rss.extend(server.worker_rss_mb())

                sampler = asyncio.create_task(sample())
                many = await closed_loop("127.0.0.1", server.port, make, args.concurrency, args.duration)
                await sampler
            finally:
                server.stop()
            await env_infra.drop_prefix(prefix)
    return {
        "path": "PUT status (HTTP)",
        "p50_ms": one.summary()["p50_ms"],
        "p99_ms": one.summary()["p99_ms"],
        "serial_per_s": one.achieved_rps,
        "concurrent_per_s": many.achieved_rps,
        "concurrent_p99_ms": many.summary()["p99_ms"],
        "statuses": {
            **one.summary()["statuses"],
            **{f"c{k}": v for k, v in many.summary()["statuses"].items()},
        },
        "worker_rss_mb": rss,
    }


def summarise(runs: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    names = [row["path"] for row in runs[0]]
    rows = []
    for name in names:
        found = [row for run in runs for row in run if row["path"] == name]
        rows.append(
            {
                "path": name,
                **{
                    k: median([float(r[k]) for r in found])
                    for k in ("p50_ms", "p99_ms", "serial_per_s", "concurrent_per_s")
                },
            }
        )
    by = {row["path"]: row for row in rows}
    for part, whole in (
        ("read_colours (group)", "raw GET (one key)"),
        ("read_colours (group)", "raw MGET (same keys)"),
        ("write_colours (one)", "raw SET (one key)"),
        ("PUT status (HTTP)", "raw SET (one key)"),
    ):
        if part in by and whole in by:
            rows.append(
                {
                    "path": f"{part} / {whole}",
                    "serial_per_s": ratio(by[part]["serial_per_s"], by[whole]["serial_per_s"]),
                    "concurrent_per_s": ratio(by[part]["concurrent_per_s"], by[whole]["concurrent_per_s"]),
                }
            )
    return rows


def plot(rows: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if " / " not in r["path"]]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = [r["path"] for r in shown]
    left.barh(names, [r["concurrent_per_s"] for r in shown], color="tab:blue")
    left.set(xlabel="calls a second (concurrent, median of runs)", xscale="log", title="throughput")
    right.barh(names, [r["p99_ms"] for r in shown], color="tab:red", label="p99")
    right.barh(names, [r["p50_ms"] for r in shown], color="tab:orange", label="p50")
    right.set(xlabel="ms, one call at a time", xscale="log", title="latency")
    right.legend()
    figure.suptitle("Colour reads and status updates beside raw GET/SET (same redis-py client)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    machine = Machine.now()
    runs: list[list[dict[str, Any]]] = []
    with infra() as env_infra:
        for index in range(args.runs):
            rows = await redis_side(env_infra, args)
            rows.append(await http_updates(env_infra, args))
            runs.append(rows)
            print(f"status: run {index + 1}/{args.runs} done", flush=True)
    machine.finish()
    summary = summarise(runs)
    rss = [m for run in runs for row in run for m in row.get("worker_rss_mb", [])]
    print(table(summary, ["path", "p50_ms", "p99_ms", "serial_per_s", "concurrent_per_s"]))
    print(f"status worker RSS under PUT load: {max(rss) if rss else float('nan'):.0f} MB")
    payload = {
        "benchmark": "status",
        "machine": machine.as_json(),
        "config": vars(args),
        "summary": summary,
        "status_worker_rss_mb": rss,
        "runs": runs,
    }
    path = write_results(Path(args.out), "status", payload, lambda png: plot(summary, png))
    print(f"results: {path} (and .png)")
    return payload

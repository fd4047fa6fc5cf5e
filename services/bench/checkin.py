"""Benchmark 1: ``POST /api/checkin/v1/scans`` beside the bare endpoint, at rising offered load.

For every run and worker count a fresh tansu is started; the bare app and the
real checkin service are served in turn by uvicorn, each first saturated by a
closed loop (its maximum), then offered open-loop load at fractions of that
maximum. The load generator runs in this process on the same two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from redis.asyncio import RedisCluster

from services.bench import bare
from services.bench.env import (
    CpuMeter,
    Infra,
    Machine,
    Server,
    Tansu,
    cli_command,
    infra,
    module_command,
    service_env,
    write_results,
)
from services.bench.loadgen import MakeRequest, Step, closed_loop, json_post, open_loop
from services.bench.otlp import otlp_sink, with_tracing, without_tracing
from services.bench.seed import people, send_events, venues, wait_count
from services.bench.stats import median, ratio, table
from services.redis_cluster import RedisClusterNodes
from shared.auth import AccessTokens
from shared.cache import create_redis
from shared.colours import mark_warm
from shared.events import REGISTRY_TOPIC, topic
from shared.keys import load_keys
from shared.settings import InfraSettings, RedisSettings
from shared.tokens import TokenSigner

SCANS = "/api/checkin/v1/scans"
# Offered load as fractions of the closed-loop maximum: the issue asks for p99 at 70 %.
FRACTIONS = (0.25, 0.5, 0.7, 0.9)
# The checkin service caps a person at 30 check-ins in 10 minutes (services/checkin/cache.py);
# 3000 people give ~90 k scans per server start before any cap, several times what a sweep sends.
DEFAULT_PEOPLE = 3000
DEFAULT_VENUES = 200
SEED_DEADLINE_S = 180.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3, help="repeats; medians are quoted (default 3)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="uvicorn workers (default 1 2)"
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load step (default 5)")
    parser.add_argument("--concurrency", type=int, default=64, help="closed-loop connections (default 64)")
    parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE)
    parser.add_argument("--venues", type=int, default=DEFAULT_VENUES)
    parser.add_argument(
        "--redis-cluster",
        action="store_true",
        help="run checkin against a private 3-master, 3-replica Redis Cluster (redis-server from PATH)",
    )
    parser.add_argument(
        "--tracing",
        type=float,
        default=None,
        metavar="SAMPLE",
        help="also serve checkin with OpenTelemetry on (this share of traces sampled, e.g. 1.0) "
        "beside it off, and print the traced/untraced ratio",
    )


class World:
    """People with access tokens and venues with venue tokens, made before any load."""

    def __init__(self, settings: InfraSettings, n_people: int, n_venues: int) -> None:
        keys = load_keys(settings)
        tokens = AccessTokens(keys.jwt, settings.jwt_audience, 3600 * 4)
        signer = TokenSigner(keys.tokens)
        self.people = [uuid.uuid4() for _ in range(n_people)]
        self.venues = [uuid.uuid4() for _ in range(n_venues)]
        self.bearers = [f"Bearer {tokens.issue(p, [])}" for p in self.people]
        self.bodies = [
            orjson.dumps({"venue_token": signer.venue_token(v, 1), "temperature_band": "normal"})
            for v in self.venues
        ]
        self.tag = uuid.uuid4().hex[:8]
        # Every request of the whole run gets its own key: a repeated key is a cheap replay (200).
        self._serial = itertools.count()

    def maker(self, host: str, path: str) -> MakeRequest:
        def make(i: int) -> bytes:
            headers = {
                "Authorization": self.bearers[i % len(self.bearers)],
                "Idempotency-Key": f"{self.tag}-{next(self._serial)}",
            }
            return json_post(host, path, self.bodies[i % len(self.bodies)], headers)

        return make


# A target's server, its requests, and what counts the Redis commands it makes (None: none).
Target = tuple[Server, MakeRequest, Callable[[], Awaitable[int]] | None]


async def redis_commands(url: str, cluster: bool) -> int:
    """Every command the Redis server (a cluster: every master) has run, from INFO commandstats."""
    redis = create_redis(RedisSettings(url=url, cluster=cluster))
    try:
        if isinstance(redis, RedisCluster):
            per_node = await redis.info("commandstats", target_nodes=RedisCluster.PRIMARIES)
            sections = list(per_node.values())
        else:
            sections = [await redis.info("commandstats")]
    finally:
        await redis.aclose()
    return sum(int(stats["calls"]) for section in sections for stats in section.values())


async def step_at(server: Server, make: MakeRequest, rate: float, args: argparse.Namespace) -> dict[str, Any]:
    """One open-loop step; the workers' RSS is sampled half-way through, at steady load."""
    rss: list[float] = []

    async def sample() -> None:
        await asyncio.sleep(args.duration / 2)
        rss.extend(server.worker_rss_mb())

    sampler = asyncio.create_task(sample())
    step: Step = await open_loop("127.0.0.1", server.port, make, rate, args.duration)
    await sampler
    return {**step.summary(), "worker_rss_mb": rss}


async def sweep(targets: dict[str, Target], args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Saturate each target, then offer rising fractions of its own maximum.

    The targets take turns step by step, so that the real endpoint and its limit
    see the same moments of a shared, noisy machine.
    """
    steps: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    maxima: dict[str, float] = {}
    for name, (server, make, commands) in targets.items():
        # A short warm-up: pools, connections and caches fill first.
        await closed_loop("127.0.0.1", server.port, make, 8, 1.0)
        meter = CpuMeter(server)
        before = await commands() if commands else 0
        saturated = await closed_loop("127.0.0.1", server.port, make, args.concurrency, args.duration)
        cpu = meter.per_request_ms(saturated.ok)
        # Every Redis command of the step per answered scan (on a shared Redis, others' too).
        per_scan = ((await commands()) - before) / max(saturated.ok, 1) if commands else 0.0
        steps[name].append({"fraction": 1.0, **saturated.summary(), **cpu, "redis_commands": per_scan})
        maxima[name] = saturated.achieved_rps
    for fraction in FRACTIONS:
        for name, (server, make, _) in targets.items():
            if maxima[name] > 0:
                steps[name].append(
                    {"fraction": fraction, **await step_at(server, make, maxima[name] * fraction, args)}
                )
    return steps


async def one_cycle(
    env_infra: Infra, database_url: str, world: World, *, workers: int, seeded: bool, args: argparse.Namespace
) -> dict[str, Any]:
    """One run at one worker count: a fresh tansu and key prefix, both servers up, steps in turn."""
    namespace = f"b{uuid.uuid4().hex[:8]}."
    prefix = f"vcbench:{uuid.uuid4().hex[:8]}:"
    with Tansu(env_infra.workdir) as tansu, redis_for(env_infra, args) as (redis_url, cluster):
        env = service_env(env_infra, database_url, tansu.bootstrap, namespace, prefix)
        env.update({"VENUECODE_REDIS_URL": redis_url, "VENUECODE_REDIS_CLUSTER": str(cluster).lower()})
        redis = create_redis(RedisSettings(url=redis_url, cluster=cluster))
        try:
            await mark_warm(redis, prefix)  # as status does after a refill: a missing key reads green
        finally:
            await redis.aclose()
        workers_arg = ("--workers", str(workers))
        serve = cli_command("serve", "checkin", *workers_arg)
        real = Server("checkin", serve, without_tracing(env), env_infra.workdir)
        plain = Server("bare", module_command("services.bench.bare", *workers_arg), env, env_infra.workdir)
        traced = None
        if args.tracing is not None:
            traced = Server(
                "traced", serve, with_tracing(env, args.otlp_endpoint, args.tracing), env_infra.workdir
            )
        try:
            await real.start("/api/checkin/readyz")
            if not seeded:
                events = [*people(world.people), *venues(world.venues, world.people)]
                await send_events(tansu.bootstrap, topic(REGISTRY_TOPIC, namespace), events)
                count = "SELECT count(*) FROM checkin.processed_events"
                await wait_count(database_url, count, len(events), SEED_DEADLINE_S)
            await plain.start(f"/api/{bare.NAME}/readyz")
            targets: dict[str, Target] = {
                "bare": (plain, world.maker("127.0.0.1", bare.SCANS_PATH), None),
                "real": (
                    real,
                    world.maker("127.0.0.1", SCANS),
                    lambda: redis_commands(redis_url, cluster),
                ),
            }
            if traced is not None:
                targets["traced"] = (
                    await traced.start("/api/checkin/readyz"),
                    world.maker("127.0.0.1", SCANS),
                    lambda: redis_commands(redis_url, cluster),
                )
            steps = await sweep(targets, args)
        finally:
            plain.stop()
            real.stop()
            if traced is not None:
                traced.stop()
            if not cluster:  # a private cluster goes away with its keys
                await env_infra.drop_prefix(prefix)
    return {"workers": workers, **steps}


@contextlib.contextmanager
def redis_for(env_infra: Infra, args: argparse.Namespace) -> Iterator[tuple[str, bool]]:
    """The benchmark's Redis: the given one, or with --redis-cluster a private cluster."""
    if not args.redis_cluster:
        yield env_infra.redis_url, False
        return
    nodes = RedisClusterNodes(env_infra.workdir / f"redis-cluster-{uuid.uuid4().hex[:6]}").start()
    try:
        yield nodes.url, True
    finally:
        nodes.stop()


def summarise(cycles: Sequence[dict[str, Any]], workers: Sequence[int]) -> list[dict[str, Any]]:
    """Medians over runs per worker count and target, with the real/bare ratio."""
    rows: list[dict[str, Any]] = []
    for count in workers:
        mine = [c for c in cycles if c["workers"] == count]
        medians: dict[str, dict[str, float]] = {}
        for target in [t for t in ("bare", "real", "traced") if any(t in c for c in mine)]:
            steps = [s for c in mine for s in c.get(target, [])]

            def at(fraction: float, key: str, steps: list[dict[str, Any]] = steps) -> float:
                return median([float(s[key]) for s in steps if s["fraction"] == fraction])

            rss = [r for s in steps if s["fraction"] == 0.7 for r in s.get("worker_rss_mb", [])]
            medians[target] = {
                "max_rps": at(1.0, "achieved_rps"),
                "p50_ms@70%": at(0.7, "p50_ms"),
                "p99_ms@70%": at(0.7, "p99_ms"),
                "p99_ms@max": at(1.0, "p99_ms"),
                "rss_mb@70%": max(rss) if rss else float("nan"),
                # CPU per answered request at saturation: what capacity planning multiplies.
                "server_cpu_ms": at(1.0, "server_cpu_ms"),
                "stack_cpu_ms": at(1.0, "stack_cpu_ms"),
                "redis_cmds/scan": at(1.0, "redis_commands"),
            }
            non_2xx = sum(int(s["non_2xx"]) for s in steps)
            rows.append({"workers": count, "target": target, **medians[target], "non_2xx": non_2xx})
        rows.append(
            {
                "workers": count,
                "target": "real/bare",
                **{
                    key: ratio(medians["real"][key], medians["bare"][key])
                    for key in ("max_rps", "p99_ms@70%", "server_cpu_ms", "stack_cpu_ms")
                },
            }
        )
        if "traced" in medians:  # the cost of tracing: the same service with it on, against off
            rows.append(
                {
                    "workers": count,
                    "target": "traced/real",
                    **{
                        key: ratio(medians["traced"][key], medians["real"][key])
                        for key in ("max_rps", "p50_ms@70%", "p99_ms@70%", "server_cpu_ms")
                    },
                }
            )
    return rows


def plot(cycles: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    colours = {
        ("bare", 1): "tab:blue",
        ("real", 1): "tab:red",
        ("bare", 2): "tab:cyan",
        ("real", 2): "tab:orange",
    }
    seen: set[tuple[str, int]] = set()
    for cycle in cycles:
        for target in ("bare", "real"):
            steps = sorted(cycle.get(target, []), key=lambda s: s["fraction"])
            label_key = (target, cycle["workers"])
            label = f"{target}, {cycle['workers']} worker(s)" if label_key not in seen else None
            seen.add(label_key)
            colour = colours.get(label_key, "tab:gray")
            left.plot(
                [s["offered_rps"] if s["mode"] == "open" else s["achieved_rps"] for s in steps],
                [s["achieved_rps"] for s in steps],
                "o-",
                color=colour,
                alpha=0.7,
                label=label,
            )
            right.plot(
                [s["achieved_rps"] for s in steps],
                [s["p99_ms"] for s in steps],
                "o-",
                color=colour,
                alpha=0.7,
                label=label,
            )
    left.set(
        xlabel="offered req/s (saturation point: achieved)", ylabel="answered 2xx req/s", title="throughput"
    )
    right.set(xlabel="answered req/s", ylabel="p99 latency (ms)", yscale="log", title="p99 latency")
    right.axhline(50, color="gray", linestyle=":", label="target p99 50 ms")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    figure.suptitle("POST /api/checkin/v1/scans beside the bare endpoint (same stack, no I/O)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    machine = Machine.now()
    cycles: list[dict[str, Any]] = []
    with infra() as env_infra, otlp_sink() as sink:
        args.otlp_endpoint = sink.endpoint
        settings = InfraSettings(state_dir=env_infra.keys_dir)
        world = World(settings, args.people, args.venues)
        async with env_infra.database() as database_url:
            seeded = False
            for index in range(args.runs):
                for workers in args.workers:
                    cycle = await one_cycle(
                        env_infra, database_url, world, workers=workers, seeded=seeded, args=args
                    )
                    seeded = True
                    cycles.append({"run": index, **cycle})
                    print(f"checkin: run {index + 1}/{args.runs}, {workers} worker(s) done", flush=True)
        spans_sent = {"otlp_requests": sink.requests, "otlp_bytes": sink.bytes}
    machine.finish()
    rows = summarise(cycles, args.workers)
    print(table(rows))
    if args.tracing is not None:
        print(f"tracing on: {sink.requests} OTLP exports, {sink.bytes:,} bytes received by the sink")
    payload = {
        "benchmark": "checkin",
        "machine": machine.as_json(),
        "config": {k: v for k, v in vars(args).items() if not callable(v)},
        "note": "the load generator runs on the same 2 cores as the servers",
        "summary": rows,
        "tracing_export": spans_sent,
        "cycles": cycles,
    }
    path = write_results(Path(args.out), "checkin", payload, lambda png: plot(cycles, png))
    print(f"results: {path} (and .png)")
    return payload

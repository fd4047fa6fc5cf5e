"""Benchmark 2: the tracing consumer draining a backlog of check-ins, beside a raw COPY of the same rows.

Each run makes the same rows twice from one seed: once as ``checkin.recorded``
events on a fresh private tansu (a backlog, produced before the consumer
starts), drained by ``venuecode serve tracing`` into a fresh database; once
copied with plain ``COPY`` batches into another fresh database with the same
migrations (partitioned table, same indexes). The consumer's rate is taken
from its own ``/metrics`` counter, from its first stored event to its last.

A share of the backlog (``--repeats``, default 10 %) is sent again a little later with a new
envelope, as a scan retried after its answer was lost: the consumer must refuse each one
through the database's key (issue 14). Each run prints the events sent, the rows stored (which
must equal the distinct check-ins: more is a duplicate stored, fewer a loss) and the
duplicates refused; the raw COPY gets the distinct rows only (it could not refuse the rest).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.bench.env import (
    TRACING_MIGRATIONS,
    Infra,
    Machine,
    Tansu,
    infra,
    service_env,
    service_server,
    write_results,
)
from services.bench.seed import send
from services.bench.stats import median, ratio, table
from services.tracing.models import CHECKIN_COLUMNS
from shared import db
from shared.events import (
    CHECKINS_TOPIC,
    REGISTRY_TOPIC,
    STATUS_COMMANDS_TOPIC,
    CheckinRecorded,
    CheckinRecordedData,
    dlq,
    encode,
    topic,
)
from shared.kafka import ensure_topics
from shared.settings import KafkaSettings

# The tracing consumer writes batches of up to 5000 (services/tracing/config.py); the raw COPY
# uses the same batch size so that both pay the same per-statement overhead.
COPY_BATCH = 5000
# Rows are spread over the last six hours: inside retention, across at most two day partitions.
SPREAD_S = 6 * 3600
# The consumer may take this long per 100 k rows before the run is declared stuck
# (it drained ~10 k/s on a loaded machine here; ten times slower means something broke).
DEADLINE_PER_100K_S = 120.0
POLL_S = 0.25
# A retried scan reaches the topic about a batch after the first attempt: the consumer sees it
# in a later batch, so only the store's key can refuse it.
REPEAT_AFTER = 5000
TRACING_TOPICS = (
    CHECKINS_TOPIC,
    REGISTRY_TOPIC,
    STATUS_COMMANDS_TOPIC,
    dlq(CHECKINS_TOPIC),
    dlq(REGISTRY_TOPIC),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--count", type=int, default=1_000_000, help="check-ins in the backlog (default 1,000,000)"
    )
    parser.add_argument("--runs", type=int, default=3, help="repeats; medians are quoted (default 3)")
    parser.add_argument("--venues", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument(
        "--repeats",
        type=float,
        default=0.1,
        help="share of check-ins sent twice, a retry with a new envelope (default 0.1)",
    )


Row = tuple[Any, ...]


def rows(seed: int, count: int, n_venues: int, n_people: int, now: datetime) -> Iterator[Row]:
    """The same ``count`` check-in rows for the same seed, in COPY column order."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    venues = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(n_venues)]
    people = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(n_people)]
    for i in range(count):
        yield (
            uuid.UUID(int=rng.getrandbits(128)),
            people[rng.randrange(n_people)],
            venues[rng.randrange(n_venues)],
            "self_scan",
            "normal",
            "green",
            None,
            None,
            now - timedelta(seconds=i % SPREAD_S),
        )


class WithRepeats:
    """The rows, each sent again ~``REPEAT_AFTER`` rows later with probability ``share``;
    ``sent`` counts what went out."""

    def __init__(self, source: Iterator[Row], share: float, seed: int) -> None:
        self._source = source
        self._share = share
        self._rng = random.Random(seed + 1_000_003)  # noqa: S311 - synthetic data, not security
        self.sent = 0

    def __iter__(self) -> Iterator[Row]:
        later: deque[tuple[int, Row]] = deque()
        for index, row in enumerate(self._source):
            yield row
            if self._rng.random() < self._share:
                later.append((index + REPEAT_AFTER, row))
            while later and later[0][0] <= index:
                yield later.popleft()[1]
                self.sent += 1
            self.sent += 1
        while later:
            yield later.popleft()[1]
            self.sent += 1


def event_of(row: Row) -> tuple[bytes, bytes]:
    data = CheckinRecordedData(**dict(zip(CHECKIN_COLUMNS, row, strict=True)))
    return str(data.venue_id).encode(), encode(CheckinRecorded(data=data))


def chunks(items: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def raw_copy(env_infra: Infra, source: Iterator[Row]) -> dict[str, Any]:
    """COPY the rows into a fresh database with the tracing migrations; only the COPYs are timed."""
    async with env_infra.database() as url:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
        try:
            await db.migrate(pool, "tracing", TRACING_MIGRATIONS)
            today = datetime.now(UTC).date()
            async with pool.acquire() as conn:
                await conn.fetch(
                    "SELECT tracing.ensure_day_partition(d) FROM unnest($1::date[]) AS d",
                    [today - timedelta(days=1), today, today + timedelta(days=1)],
                )
                spent = 0.0
                copied = 0
                for chunk in chunks(source, COPY_BATCH):
                    start = time.perf_counter()
                    await conn.copy_records_to_table(
                        "checkins", schema_name="tracing", records=chunk, columns=CHECKIN_COLUMNS
                    )
                    spent += time.perf_counter() - start
                    copied += len(chunk)
                stored = int(await conn.fetchval("SELECT count(*) FROM tracing.checkins"))
        finally:
            await pool.close()
    return {
        "rows": copied,
        "stored": stored,
        "seconds": spent,
        "rows_per_s": copied / spent if spent else 0.0,
    }


async def handled_events(client: httpx.AsyncClient) -> tuple[float, float]:
    """The consumer's own counts of check-ins stored and refused as duplicates, from /metrics."""
    counted = {"stored": 0.0, "duplicate": 0.0}
    for line in (await client.get("/api/tracing/metrics")).text.splitlines():
        if not line.startswith("venuecode_events_consumed_total{") or 'service="tracing"' not in line:
            continue
        for outcome in counted:
            if f'outcome="{outcome}"' in line:
                counted[outcome] += float(line.rsplit(" ", 1)[1])
    return counted["stored"], counted["duplicate"]


async def consumer_drain(env_infra: Infra, source: WithRepeats) -> dict[str, Any]:
    """Produce the backlog on a fresh tansu, then time ``venuecode serve tracing`` draining it."""
    namespace = f"b{uuid.uuid4().hex[:8]}."
    prefix = f"vcbench:{uuid.uuid4().hex[:8]}:"
    with Tansu(env_infra.workdir) as tansu:
        await ensure_topics(KafkaSettings(bootstrap=tansu.bootstrap, namespace=namespace), TRACING_TOPICS)
        produced_rate = await send(tansu.bootstrap, topic(CHECKINS_TOPIC, namespace), map(event_of, source))
        count = source.sent
        async with env_infra.database() as url:
            env = service_env(env_infra, url, tansu.bootstrap, namespace, prefix)
            server = service_server("tracing", env, env_infra.workdir)
            launched = time.perf_counter()
            await server.start("/api/tracing/healthz")
            rss: list[float] = []
            first_at = first_count = None
            deadline = launched + DEADLINE_PER_100K_S * max(1.0, count / 100_000)
            try:
                async with httpx.AsyncClient(base_url=server.base_url, timeout=5.0) as client:
                    while True:
                        stored_now, refused = await handled_events(client)
                        handled = stored_now + refused
                        now = time.perf_counter()
                        if handled > 0 and first_at is None:
                            first_at, first_count = now, handled
                        if handled >= count:
                            break
                        if now > deadline:
                            raise RuntimeError(
                                f"the consumer handled {handled:.0f} of {count} before the deadline"
                            )
                        if handled > count / 2 and not rss:
                            rss = server.worker_rss_mb()
                        await asyncio.sleep(POLL_S)
                finished = time.perf_counter()
                async with asyncpg.create_pool(url, min_size=1, max_size=1) as pool:
                    stored = int(await pool.fetchval("SELECT count(*) FROM tracing.checkins"))
            finally:
                server.stop()
            await env_infra.drop_prefix(prefix)
    assert first_at is not None
    assert first_count is not None
    span = finished - first_at
    return {
        "rows": count,
        "stored": stored,
        "duplicates_refused": int(refused),
        "produced_per_s": produced_rate,
        "seconds_from_launch": finished - launched,
        "seconds_first_to_last": span,
        "rows_per_s": (count - first_count) / span if span > 0 else float("nan"),
        "worker_rss_mb": rss,
    }


def plot(results: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    runs = list(range(1, len(results) + 1))
    width = 0.38
    axis.bar(
        [r - width / 2 for r in runs], [r["raw"]["rows_per_s"] for r in results], width, label="raw COPY"
    )
    axis.bar(
        [r + width / 2 for r in runs],
        [r["consumer"]["rows_per_s"] for r in results],
        width,
        label="tracing consumer",
    )
    axis.set(xlabel="run", ylabel="check-ins a second", title="Kafka backlog into Postgres, beside raw COPY")
    axis.set_xticks(runs)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    machine = Machine.now()
    results: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    with infra() as env_infra:
        for index in range(args.runs):
            seed = index
            raw = await raw_copy(env_infra, rows(seed, args.count, args.venues, args.people, now))
            backlog = WithRepeats(rows(seed, args.count, args.venues, args.people, now), args.repeats, seed)
            consumer = await consumer_drain(env_infra, backlog)
            results.append({"run": index, "raw": raw, "consumer": consumer})
            print(
                f"ingest: run {index + 1}/{args.runs}: raw COPY {raw['rows_per_s']:,.0f}/s,"
                f" consumer {consumer['rows_per_s']:,.0f} events/s; events sent {consumer['rows']:,},"
                f" rows stored {consumer['stored']:,} (distinct check-ins {args.count:,}),"
                f" duplicates refused {consumer['duplicates_refused']:,}",
                flush=True,
            )
            if consumer["stored"] != args.count:
                raise RuntimeError(f"stored {consumer['stored']:,} rows of {args.count:,} distinct check-ins")
    machine.finish()
    raw_rate = median([r["raw"]["rows_per_s"] for r in results])
    consumer_rate = median([r["consumer"]["rows_per_s"] for r in results])
    rss = [m for r in results for m in r["consumer"]["worker_rss_mb"]]
    summary = [
        {"path": "raw COPY", "rows_per_s": raw_rate, "runs": len(results), "rows": args.count},
        {
            "path": "tracing consumer",
            "rows_per_s": consumer_rate,
            "runs": len(results),
            "rows": median([r["consumer"]["rows"] for r in results]),
            "stored": median([r["consumer"]["stored"] for r in results]),
            "refused": median([r["consumer"]["duplicates_refused"] for r in results]),
            "rss_mb": max(rss) if rss else float("nan"),
        },
        {"path": "consumer/raw", "rows_per_s": ratio(consumer_rate, raw_rate)},
    ]
    print("rows = events sent; stored = rows in the store; refused = duplicates refused by its key")
    print(table(summary, ["path", "rows_per_s", "rows", "stored", "refused", "runs", "rss_mb"]))
    payload = {
        "benchmark": "ingest",
        "machine": machine.as_json(),
        "config": vars(args),
        "summary": summary,
        "runs": results,
    }
    path = write_results(Path(args.out), "ingest", payload, lambda png: plot(results, png))
    print(f"results: {path} (and .png)")
    return payload

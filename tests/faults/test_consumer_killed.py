"""The tracing consumer killed (SIGKILL) in the middle of a batch and restarted: every acknowledged
check-in is stored exactly once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import pytest

from shared.settings import InfraSettings
from tests.faults.kit import (
    Tally,
    assert_exactly_once,
    checkin_app,
    drained,
    make_world,
    plan,
    private_infra,
    running,
    scan_all,
    seed,
    stored,
)
from tests.faults.process import TracingProcess
from tests.faults.servers import PrivateBroker, PrivateRedis
from tests.waiting import eventually

pytestmark = pytest.mark.faults

SCANS = 600
# Scans sent after the kill, while no consumer runs: there is always something to store after it,
# however fast the first consumer was (on a busy machine it once stored all 600 before the kill).
AFTER_KILL = 100
# Small batches, so that the kill lands between and inside many of them.
BATCH = "100"
# How long the test watches Postgres for a batch transaction in flight before it kills anyway.
CATCH_WITHIN_S = 10.0


async def batch_in_flight(conn: asyncpg.Connection, database: str) -> bool:
    """True while a tracing connection holds an open transaction that writes check-ins."""
    rows = await conn.fetch(
        "SELECT state, query FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
        " AND xact_start IS NOT NULL AND (query ILIKE '%tracing.checkins%' OR query ILIKE 'COPY%')",
        database,
    )
    return bool(rows)


async def test_consumer_killed_mid_batch_loses_and_doubles_nothing(
    infra: InfraSettings, broker: PrivateBroker, redis_server: PrivateRedis, tmp_path: Path
) -> None:
    private = private_infra(infra, kafka=broker.bootstrap, redis=redis_server.url)
    assert private.postgres_url is not None
    database = private.postgres_url.rsplit("/", 1)[-1]
    world = make_world(private, people=40, venues=8)
    first = TracingProcess(private, tmp_path / "tracing-1.log", batch_max_records=BATCH)
    second = TracingProcess(private, tmp_path / "tracing-2.log", batch_max_records=BATCH)
    watcher = await asyncpg.connect(private.postgres_url)
    started = time.monotonic()
    try:
        async with running(checkin_app(private)) as client:
            await seed(world, client)
            first.start()
            await first.ready()

            tally = Tally()
            scanning = asyncio.create_task(scan_all(client, world, plan(world, SCANS, "kill"), tally))

            async def some_stored() -> bool:
                return len(await stored(private.postgres_url or "")) >= SCANS // 10

            await eventually(some_stored, timeout_s=60, what="tracing stored a first tenth")
            deadline = time.monotonic() + CATCH_WITHIN_S
            caught = False
            while not caught and time.monotonic() < deadline:
                caught = await batch_in_flight(watcher, database)
            first.kill()
            at_kill = len(await stored(private.postgres_url))
            print(f"\n[faults] killed tracing with {at_kill} stored; mid-transaction: {caught}")
            after_kill = asyncio.create_task(scan_all(client, world, plan(world, AFTER_KILL, "after"), tally))

            second.start()
            await second.ready()
            await asyncio.wait_for(asyncio.gather(scanning, after_kill), 120)
            assert set(tally.statuses) == {201}, tally.statuses
            found = await drained(private.postgres_url, tally.acknowledged)
            assert at_kill < len(tally.acknowledged), "the kill came after everything was stored"
            assert_exactly_once("consumer killed mid-batch", tally.acknowledged, found)
            print(f"[faults] took {time.monotonic() - started:.1f} s")
    finally:
        first.kill()
        second.stop()
        await watcher.close()

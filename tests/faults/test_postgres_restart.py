"""Postgres restarted while tracing consumes a stream of check-ins: nothing lost, nothing doubled.

Tracing runs on its own embedded Postgres, which the test stops and starts; checkin keeps the
test's database on the shared server, so scans go on being answered during the outage.
"""

from __future__ import annotations

import asyncio
import logging
import time

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
    tracing_app,
)
from tests.faults.servers import PrivateBroker, PrivatePostgres, PrivateRedis
from tests.waiting import eventually

pytestmark = pytest.mark.faults

SCANS = 400
# Small batches, so that several are in flight around the restart.
BATCH = 50
# Long enough for tracing to fail a few batches (it retries every second), short for the suite.
OUTAGE_S = 3.0


async def test_postgres_restart_loses_and_doubles_nothing(
    infra: InfraSettings,
    broker: PrivateBroker,
    redis_server: PrivateRedis,
    postgres_server: PrivatePostgres,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="venuecode.tracing.pipeline")
    private = private_infra(infra, kafka=broker.bootstrap, redis=redis_server.url)
    on_private_pg = private.model_copy(update={"postgres_url": postgres_server.url})
    world = make_world(private, people=40, venues=6)
    started = time.monotonic()
    async with running(checkin_app(private), tracing_app(on_private_pg, batch_max_records=BATCH)) as client:
        await seed(world, client)
        tally = Tally()
        scanning = asyncio.create_task(scan_all(client, world, plan(world, SCANS, "pg"), tally))
        try:

            async def some_stored() -> bool:
                return len(await stored(postgres_server.url)) >= SCANS // 10

            await eventually(some_stored, timeout_s=60, what="tracing stored a first tenth")
            await postgres_server.astop()
            at_stop = len(tally.acknowledged)
            await asyncio.sleep(OUTAGE_S)  # the outage itself: nothing to poll for
            await postgres_server.astart()
            print(f"\n[faults] Postgres stopped for {OUTAGE_S:.0f} s after {at_stop} acknowledged")
            await asyncio.wait_for(scanning, 120)
        finally:
            scanning.cancel()
        assert set(tally.statuses) == {201}, tally.statuses
        failed = [r for r in caplog.records if "batch failed" in r.getMessage()]
        assert failed, "tracing never met the outage: the test proved nothing"
        print(f"[faults] tracing failed and rewound {len(failed)} batch(es) during the outage")
        found = await drained(postgres_server.url, tally.acknowledged)
        assert_exactly_once("Postgres restarted under tracing", tally.acknowledged, found)
        print(f"[faults] took {time.monotonic() - started:.1f} s")

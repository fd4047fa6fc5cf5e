"""The outbreak statements prune day partitions and read through indexes (from EXPLAIN ANALYZE)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from services.tracing import store_alerts, store_outbreaks
from services.tracing.pipeline import Ingest
from services.tracing.service import TracingService
from tests.integration.tracing.test_query_plans import executed
from tests.integration.tracing.timeline import checkin, minutes, partition_names, write_events

EXPLAIN = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "


async def test_exposures_and_alert_presence_read_only_the_days_of_the_window(
    ingest: Ingest, pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    cases, venue = [uuid.uuid4() for _ in range(3)], uuid.uuid4()
    # Two weeks of days, the cases on each, so every day has its partition and rows to skip.
    await write_events(ingest, [checkin(c, venue, now - timedelta(days=d)) for d in range(14) for c in cases])
    start = now - timedelta(days=7)
    cutoff = now - timedelta(days=21)

    async with pool.acquire() as conn:
        days = [n for n in await partition_names(pool) if n.startswith("checkins_p")]
        exposures = await conn.fetch(
            EXPLAIN + store_outbreaks._EXPOSURES, cases, start, start + minutes(60), None, cutoff, 30
        )
        present = await conn.fetch(
            EXPLAIN + store_alerts._PRESENT, venue, start, start + minutes(60), None, cutoff
        )

    assert len(days) >= 14
    for plan in ("\n".join(r[0] for r in exposures), "\n".join(r[0] for r in present)):
        scanned = executed(plan, days)
        # The window less the longest visit (12 h) before it: two day partitions at most.
        assert 0 < len(scanned) <= 2, plan
        assert "Seq Scan on checkins_p" not in plan, plan
        assert "checkins_default" not in plan or "never executed" in plan

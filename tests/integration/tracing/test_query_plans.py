"""The contact statements prune day partitions and go through the indexes (read from EXPLAIN)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from fastapi import FastAPI

from services.tracing import store_contacts
from services.tracing.app import create_app
from services.tracing.config import Settings
from services.tracing.pipeline import Ingest
from services.tracing.service import TracingService
from shared.settings import InfraSettings
from tests.integration.tracing.timeline import checkin, minutes, partition_names, write_events

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


def executed(plan: str, partitions: list[str]) -> set[str]:
    """The partitions a plan scanned: named in it and not "(never executed)"."""
    lines = plan.splitlines()
    return {d for d in partitions for line in lines if f" on {d} " in line and "never executed" not in line}


async def test_the_service_plans_once_per_connection_and_still_prunes(
    infra: InfraSettings, serve: Serve
) -> None:
    """Generic plans (SESSION_SETTINGS): the pool's sessions have them, and they prune at run time."""
    app = create_app(Settings(infra=infra))
    async with serve(app):
        pool: asyncpg.Pool = app.state.services.store._pool  # the service's own sessions
        assert await pool.fetchval("SHOW plan_cache_mode") == "force_generic_plan"


async def test_depth_one_and_two_read_only_the_days_of_the_window(
    ingest: Ingest, pool: asyncpg.Pool, tracing: TracingService
) -> None:
    now = datetime.now(UTC)
    case, other, venue = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # Two weeks of days, a check-in on each, so every day has its partition.
    await write_events(ingest, [checkin(other, venue, now - timedelta(days=d)) for d in range(14)])
    start = now - timedelta(days=7)
    await write_events(
        ingest, [checkin(case, venue, start + minutes(10)), checkin(other, venue, start + minutes(20))]
    )
    cutoff = now - timedelta(days=21)
    explain = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "

    async with pool.acquire() as conn:
        days = [n for n in await partition_names(pool) if n.startswith("checkins_p")]
        one = await conn.fetch(
            explain + store_contacts._DEPTH_1, case, start, start + minutes(60), None, cutoff, 1
        )
        two = await conn.fetch(
            explain + store_contacts._DEPTH_2,
            [other],
            [start + minutes(20)],
            start,
            start + minutes(60),
            None,
            cutoff,
            1,
            [case, other],
        )

    assert len(days) >= 14
    for plan in ("\n".join(r[0] for r in one), "\n".join(r[0] for r in two)):
        scanned = executed(plan, days)
        # The window [start - 24 h, end + 12 h] touches at most 3 day partitions.
        assert 0 < len(scanned) <= 3, plan
        assert "checkins_default" not in plan or "never executed" in plan
        assert "_pkey" in plan, plan  # the key leads with (venue_id, checked_in_at)
        assert "Seq Scan on checkins_p" not in plan
    # Each visit (depth 2: each island of visits) bounds its own venue-index range (its CTE's
    # columns reach the Index Cond): as a join filter instead, every visit read its venue's whole
    # window (issue 14).
    for plan, visit, end in (
        ("\n".join(r[0] for r in one), "cv", "ends_at"),
        ("\n".join(r[0] for r in two), "i", "reach_to"),
    ):
        bounded = [
            line
            for line in plan.splitlines()
            if "Index Cond" in line and f"venue_id = {visit}.venue_id" in line and f"< {visit}.{end}" in line
        ]
        assert bounded, plan

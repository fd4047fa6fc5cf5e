"""The tracing app: create_app() builds routes and subscribers; the lifespan owns every connection."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.tracing import api, api_alerts, api_compliance, api_outbreaks, handlers, pages
from services.tracing.config import Settings
from services.tracing.services import Services, build_services
from services.tracing.store import SESSION_SETTINGS
from shared import jobs
from shared.events import CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_COMMANDS_TOPIC, dlq
from shared.runtime import Runtime, service

NAME = "tracing"
MIGRATIONS = Path(__file__).parent / "migrations"
# Allocations between young-generation collections while the app runs (Python's default: 700).
GC_YOUNG_THRESHOLD = 50_000


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, runtime: Runtime) -> AsyncIterator[Services]:
        services = await build_services(runtime, settings)
        # Today's partitions must exist before this replica ingests: its first round waits
        # for the lock (another replica may be making them) instead of skipping.
        await jobs.run_round(runtime.pool, services.upkeep, wait=True)
        # What startup built lives as long as the worker. Frozen, it is no longer walked by
        # the collections that ingestion triggers (each batch makes ~10 objects an event):
        # decoding went from ~7.5 to ~5 µs an event in a profile of the consumer path.
        # Thawed on the way out, so a test process that starts many apps frees their garbage.
        gc.freeze()
        # Ingestion keeps two or three batches alive (~10 tracked objects an event) and frees
        # them whole: at the default threshold (700 allocations) the young collection ran every
        # ~70 events, walking objects that all survive. Decoding 5000-event batches with three
        # alive cost 3.0 us an event of CPU at 700, 2.4 at 50,000.
        threshold = gc.get_threshold()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])
        try:
            async with jobs.running(runtime.pool, [services.upkeep]):
                yield services
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()

    return service(
        NAME,
        lifespan,
        topics=[
            CHECKINS_TOPIC,
            REGISTRY_TOPIC,
            STATUS_COMMANDS_TOPIC,
            dlq(CHECKINS_TOPIC),
            dlq(REGISTRY_TOPIC),
        ],
        infra=settings.infra,
        package=MIGRATIONS.parent,
        publishes=[STATUS_COMMANDS_TOPIC],
        routers=[api.router, api_outbreaks.router, api_alerts.router, api_compliance.router, pages.router],
        subscribers=lambda router, services: handlers.register(router, settings, services),
        session_settings=SESSION_SETTINGS,
        # No session state is left on a pooled connection (no SET, LISTEN or cursor; the jobs'
        # and migrations' advisory locks are unlocked by their owners; the ingest's staging
        # table is a temp table, which the reset never dropped): so a connection goes back
        # without asyncpg's reset round trip (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL).
        # A contact query borrows a connection three or four times: ~0.7 ms of worker CPU and
        # ~0.6 ms of Postgres CPU a depth-1 query on the skewed bench store (/proc, 30 queries).
        reset_sessions=False,
    )

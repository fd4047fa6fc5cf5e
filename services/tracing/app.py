"""The tracing app: create_app() builds routes and subscribers; the lifespan owns every connection."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from services.tracing import api, api_alerts, api_outbreaks, handlers, pages
from services.tracing.config import Settings
from services.tracing.services import build_services
from services.tracing.store import SCHEMA
from shared import jobs
from shared.asyncapi import contract
from shared.events import CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_COMMANDS_TOPIC, dlq
from shared.kafka import make_router
from shared.runtime import open_runtime
from shared.web import service_app

NAME = "tracing"
MIGRATIONS = Path(__file__).parent / "migrations"
# Every tracing statement reads the day partitions. A custom plan is made again on every
# execution across all of them (a depth-1 contact query planned in 5-19 ms and ran in 2-5 ms
# on 20 M rows, 29 partitions), and Postgres keeps choosing custom plans because a generic
# plan's estimate counts every partition. A generic plan is made once per connection and
# prunes partitions when it starts: depth-1 p50 6.8 -> 2.3 ms (``venuecode bench contacts``).
# On Citus the store reopens its sessions otherwise (``Store.open_for_citus``).
SESSION_SETTINGS = {"plan_cache_mode": "force_generic_plan"}
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    router = make_router(settings.infra.kafka, NAME)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(
            app,
            settings.infra,
            router=router,
            schema=SCHEMA,
            migrations=MIGRATIONS,
            session_settings=SESSION_SETTINGS,
            topics=[
                CHECKINS_TOPIC,
                REGISTRY_TOPIC,
                STATUS_COMMANDS_TOPIC,
                dlq(CHECKINS_TOPIC),
                dlq(REGISTRY_TOPIC),
            ],
        ) as runtime:
            assert runtime.pool is not None
            services = await build_services(runtime, settings)
            # Today's partitions must exist before this replica ingests: its first round waits
            # for the lock (another replica may be making them) instead of skipping.
            await jobs.run_round(runtime.pool, services.upkeep, wait=True)
            app.state.services = services
            # What startup built lives as long as the worker. Frozen, it is no longer walked by
            # the collections that ingestion triggers (each batch makes ~10 objects an event):
            # decoding went from ~7.5 to ~5 µs an event in a profile of the consumer path.
            # Thawed on the way out, so a test process that starts many apps frees their garbage.
            gc.freeze()
            try:
                async with jobs.running(runtime.pool, [services.upkeep]):
                    yield
            finally:
                gc.unfreeze()

    app = service_app(NAME, lifespan)
    contract(app, router, settings.infra.kafka, NAME, publishes=[STATUS_COMMANDS_TOPIC])
    handlers.register(router, settings, lambda: app.state.services)
    app.include_router(router)
    app.include_router(api.router)
    app.include_router(api_outbreaks.router)
    app.include_router(api_alerts.router)
    app.include_router(pages.router)
    app.mount("/tracing/static", StaticFiles(directory=STATIC), name="tracing-static")
    return app

"""The checkin app: create_app() builds routes and subscribers; the lifespan owns every connection."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.checkin import api, handlers, pages
from services.checkin.config import Settings
from services.checkin.memory import polling, pruning_job
from services.checkin.services import Services, build_services
from shared import jobs
from shared.events import CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_TOPIC, dlq
from shared.runtime import Runtime, service

NAME = "checkin"
MIGRATIONS = Path(__file__).parent / "migrations"
# Allocations between young collections while the worker serves (CPython's default is 700).
GC_YOUNG_THRESHOLD = 10_000


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, runtime: Runtime) -> AsyncIterator[Services]:
        services = build_services(runtime, settings)
        async with polling(services.memory), jobs.running(runtime.pool, [pruning_job(services.store)]):
            # What startup built lives as long as the worker. Frozen, it is no longer walked by
            # the full collections that scans trigger: ~120 k objects, ~100 ms pauses measured
            # under load here (issue 8's p99). Thawed on the way out, so a test process that
            # starts many apps frees their garbage as usual.
            gc.freeze()
            # The scans in flight (64 at the benchmark's saturation, each a few hundred objects)
            # outlive a young collection: at 700 allocations one ran every few scans and walked
            # them all again, promoting them for the older collections to walk once more. That
            # was ~70 us of a scan's ~1.2 ms of CPU under load (gc callbacks, thread CPU time),
            # and more in a backlog; at 10,000 it is a few us, and a young collection takes
            # ~2.5 ms here (50,000, as tracing uses, made it ~18 ms: a pause p99 would show).
            threshold = gc.get_threshold()
            gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])
            try:
                yield services
            finally:
                await services.scans.drain()
                gc.set_threshold(*threshold)
                gc.unfreeze()

    return service(
        NAME,
        lifespan,
        topics=[CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_TOPIC, dlq(STATUS_TOPIC)],
        infra=settings.infra,
        package=MIGRATIONS.parent,
        publishes=[CHECKINS_TOPIC],
        routers=[api.router, pages.router],
        subscribers=(
            (lambda router, services: handlers.register(router, settings, services))
            if settings.readmodel_consumer
            else None
        ),
        # Every statement here is a single read or one event's transaction: no session state to
        # undo, so a scan's connection goes back without a reset round trip.
        reset_sessions=False,
    )

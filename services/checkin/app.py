"""The checkin app: create_app() builds routes and subscribers; the lifespan owns every connection."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from services.checkin import api, handlers, pages
from services.checkin.cache import CheckinCache
from services.checkin.config import Settings
from services.checkin.memory import Memory, polling, pruning_job
from services.checkin.readmodel import RegistryProjection, StatusProjection
from services.checkin.service import CheckinService
from services.checkin.store import SCHEMA, Store
from shared import jobs
from shared.asyncapi import contract
from shared.events import CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_TOPIC, dlq
from shared.kafka import make_router, publish
from shared.runtime import open_runtime
from shared.web import service_app

NAME = "checkin"
MIGRATIONS = Path(__file__).parent / "migrations"
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    router = make_router(settings.infra.kafka, NAME)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_runtime(
                app,
                settings.infra,
                router=router,
                schema=SCHEMA,
                migrations=MIGRATIONS,
                topics=[CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_TOPIC, dlq(STATUS_TOPIC)],
                # Every statement here is a single read or one event's transaction: no session
                # state to undo, so a scan's connection goes back without a reset round trip.
                reset_sessions=False,
            ) as runtime,
            AsyncExitStack() as stack,
        ):
            assert runtime.pool is not None
            kafka = settings.infra.kafka

            async def publish_checkins(events: Sequence[BaseModel], key: bytes) -> None:
                await publish(router, kafka, CHECKINS_TOPIC, events, key=key)

            store = Store(runtime.pool)
            memory = await stack.enter_async_context(polling(Memory(store, settings.readmodel_poll_s)))
            await stack.enter_async_context(jobs.running(runtime.pool, [pruning_job(store)]))
            app.state.memory = memory
            app.state.runtime = runtime
            app.state.projection = RegistryProjection(store)
            app.state.status_projection = StatusProjection(store)
            service = CheckinService(
                store,
                memory,
                CheckinCache(runtime.redis, runtime.redis_prefix),
                runtime.signer,
                publish_checkins,
            )
            app.state.service = service
            # What startup built lives as long as the worker. Frozen, it is no longer walked by
            # the full collections that scans trigger: ~120 k objects, ~100 ms pauses measured
            # under load here (issue 8's p99). Thawed on the way out, so a test process that
            # starts many apps frees their garbage as usual.
            gc.freeze()
            try:
                yield
            finally:
                await service.drain()
                gc.unfreeze()

    app = service_app(NAME, lifespan)
    app.state.qr_decoder = settings.qr_decoder
    contract(app, router, settings.infra.kafka, NAME, publishes=[CHECKINS_TOPIC])
    if settings.readmodel_consumer:
        handlers.register(router, settings, lambda: app.state.projection, lambda: app.state.status_projection)
    app.include_router(router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/checkin/static", StaticFiles(directory=STATIC), name="checkin-static")
    return app

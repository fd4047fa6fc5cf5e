"""The status app: create_app() builds routes and subscribers; the lifespan owns every connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from services.status import api, handlers, pages
from services.status.config import Settings
from services.status.models import Clock, SystemClock
from services.status.services import build_services, periodic_jobs
from shared import jobs
from shared.asyncapi import contract
from shared.events import REGISTRY_TOPIC, STATUS_COMMANDS_TOPIC, STATUS_TOPIC, dlq
from shared.kafka import make_router
from shared.runtime import open_runtime
from shared.web import service_app

NAME = "status"
MIGRATIONS = Path(__file__).parent / "migrations"
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or SystemClock()
    router = make_router(settings.infra.kafka, NAME)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(
            app,
            settings.infra,
            router=router,
            schema="status",
            migrations=MIGRATIONS,
            topics=[
                STATUS_TOPIC,
                STATUS_COMMANDS_TOPIC,
                REGISTRY_TOPIC,
                dlq(STATUS_COMMANDS_TOPIC),
                dlq(REGISTRY_TOPIC),
            ],
        ) as runtime:
            app.state.services = services = build_services(runtime, settings, clock)
            assert runtime.pool is not None
            async with jobs.running(runtime.pool, periodic_jobs(services, settings)):
                yield

    app = service_app(NAME, lifespan)
    contract(app, router, settings.infra.kafka, NAME, publishes=[STATUS_TOPIC])
    handlers.register(router, settings, lambda: app.state.services)
    app.include_router(router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/status/static", StaticFiles(directory=STATIC), name="status-static")
    return app

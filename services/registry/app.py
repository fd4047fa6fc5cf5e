"""The registry app: create_app() builds routes; the lifespan owns every connection and runs the
periodic jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.registry import api, api_sessions, pages
from services.registry.config import Settings
from services.registry.services import build_services, periodic_jobs
from shared import jobs
from shared.asyncapi import contract
from shared.events import REGISTRY_TOPIC
from shared.kafka import make_router
from shared.runtime import open_runtime
from shared.web import service_app

NAME = "registry"
MIGRATIONS = Path(__file__).parent / "migrations"
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # The registry consumes nothing; the router is its producer (and its AsyncAPI contract).
    router = make_router(settings.infra.kafka, NAME)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(
            app,
            settings.infra,
            router=router,
            schema="registry",
            migrations=MIGRATIONS,
            topics=[REGISTRY_TOPIC],
        ) as runtime:
            assert runtime.pool is not None
            services = build_services(runtime, settings, app.state.access_tokens)
            app.state.services = services
            async with jobs.running(runtime.pool, periodic_jobs(services, settings)):
                yield

    app = service_app(NAME, lifespan)
    contract(app, router, settings.infra.kafka, NAME, publishes=[REGISTRY_TOPIC])
    app.include_router(router)
    app.include_router(api_sessions.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/registry/static", StaticFiles(directory=STATIC), name="registry-static")
    return app

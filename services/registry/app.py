"""The registry app: create_app() builds routes and subscribers; the lifespan owns every connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.registry import api, handlers
from services.registry.config import Settings
from shared.events import REGISTRY_TOPIC
from shared.kafka import make_router
from shared.runtime import open_runtime
from shared.web import service_app

NAME = "registry"
MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
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
            app.state.runtime = runtime
            yield

    app = service_app(NAME, lifespan)
    handlers.register(router, settings)
    app.include_router(router)
    app.include_router(api.router)
    return app

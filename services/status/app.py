"""The status app: create_app() builds routes and subscribers; the lifespan owns every connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.status import api, handlers, pages
from services.status.config import Settings
from services.status.models import Clock, SystemClock
from services.status.services import Services, build_services, periodic_jobs
from shared import jobs
from shared.events import REGISTRY_TOPIC, STATUS_COMMANDS_TOPIC, STATUS_TOPIC, dlq
from shared.runtime import Runtime, service

NAME = "status"
MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI, runtime: Runtime) -> AsyncIterator[Services]:
        services = build_services(runtime, settings, clock)
        async with jobs.running(runtime.pool, periodic_jobs(services, settings)):
            yield services

    return service(
        NAME,
        lifespan,
        topics=[
            STATUS_TOPIC,
            STATUS_COMMANDS_TOPIC,
            REGISTRY_TOPIC,
            dlq(STATUS_COMMANDS_TOPIC),
            dlq(REGISTRY_TOPIC),
        ],
        infra=settings.infra,
        package=MIGRATIONS.parent,
        publishes=[STATUS_TOPIC],
        routers=[api.router, pages.router],
        subscribers=lambda router, services: handlers.register(router, settings, services),
    )

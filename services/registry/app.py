"""The registry app: create_app() builds routes; the lifespan owns every connection and runs the
periodic jobs. The registry consumes nothing: its Kafka router is its producer (and its AsyncAPI
contract)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.registry import api, api_sessions, pages
from services.registry.config import Settings
from services.registry.services import Services, build_services, periodic_jobs
from shared import jobs
from shared.events import REGISTRY_TOPIC
from shared.runtime import Runtime, service

NAME = "registry"
MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, runtime: Runtime) -> AsyncIterator[Services]:
        services = build_services(runtime, settings, app.state.access_tokens)
        async with jobs.running(runtime.pool, periodic_jobs(services, settings)):
            yield services

    return service(
        NAME,
        lifespan,
        topics=[REGISTRY_TOPIC],
        infra=settings.infra,
        package=MIGRATIONS.parent,
        publishes=[REGISTRY_TOPIC],
        routers=[api_sessions.router, api.router, pages.router],
    )

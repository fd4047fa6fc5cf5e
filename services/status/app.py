"""The status app: create_app() builds routes and subscribers; the lifespan owns every connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from faststream.kafka.fastapi import KafkaRouter
from starlette.staticfiles import StaticFiles

from services.status import api, handlers, pages
from services.status.cache import ColourCache, lookup_limiter
from services.status.codes import HealthCodes
from services.status.config import Settings
from services.status.lookup import AssistedLookup
from services.status.models import Clock, SystemClock
from services.status.service import StatusService
from services.status.store import Store
from shared import jobs
from shared.asyncapi import contract
from shared.events import REGISTRY_TOPIC, STATUS_COMMANDS_TOPIC, STATUS_TOPIC, StatusEvent, dlq
from shared.jobs import Job
from shared.kafka import make_router, publish
from shared.runtime import Runtime, open_runtime
from shared.settings import KafkaSettings
from shared.web import service_app

NAME = "status"
MIGRATIONS = Path(__file__).parent / "migrations"
STATIC = Path(__file__).parent / "static"
log = logging.getLogger("venuecode.status")


@dataclass(frozen=True)
class Services:
    """What the routes and subscribers call, built once the lifespan opened the connections."""

    status: StatusService
    codes: HealthCodes
    lookup: AssistedLookup
    store: Store


def _publisher(
    router: KafkaRouter, kafka: KafkaSettings
) -> Callable[[Sequence[StatusEvent]], Awaitable[None]]:
    async def publish_changes(events: Sequence[StatusEvent]) -> None:
        # Keyed by person, so one person's changes and paper cards stay in order on one partition.
        await asyncio.gather(
            *(publish(router, kafka, STATUS_TOPIC, [e], key=str(e.data.person_id).encode()) for e in events)
        )

    return publish_changes


def build_services(runtime: Runtime, settings: Settings, clock: Clock) -> Services:
    assert runtime.pool is not None
    store = Store(runtime.pool)
    status = StatusService(
        store,
        ColourCache(runtime.redis, runtime.redis_prefix),
        _publisher(runtime.router, settings.infra.kafka),
        clock,
        refill_chunk=settings.refill_chunk,
        sweep_batch=settings.sweep_batch,
    )
    codes = HealthCodes(store, status, runtime.signer, settings.health_code_ttl_s)
    limiter = lookup_limiter(
        runtime.redis, runtime.redis_prefix, settings.lookup_per_minute, settings.lookup_per_day
    )
    lookup = AssistedLookup(
        store, status, runtime.vault, limiter, timezone=settings.timezone, signer=runtime.signer
    )
    return Services(status, codes, lookup, store)


def periodic_jobs(services: Services, settings: Settings) -> list[Job]:
    """The status service's rounds, each once per platform (``shared.jobs``)."""
    status = services.status
    sweep, relay = settings.sweep_interval_s, settings.outbox_relay_interval_s
    return [
        # The cache is checked at once: a cold cache shows "unknown" at every door.
        Job("status.cache", settings.cache_check_interval_s, status.ensure_cache),
        Job("status.sweep", sweep, status.sweep_expired, first_s=sweep),
        Job("status.outbox", relay, status.relay_outbox, first_s=relay),
    ]


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
            app.state.runtime = runtime
            app.state.services = services = build_services(runtime, settings, clock)
            assert runtime.pool is not None
            async with jobs.running(runtime.pool, periodic_jobs(services, settings)):
                yield

    app = service_app(NAME, lifespan)
    contract(app, router, settings.infra.kafka, NAME, publishes=[STATUS_TOPIC])
    app.state.settings = settings
    handlers.register(router, settings, lambda: app.state.services.status)
    app.include_router(router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/status/static", StaticFiles(directory=STATIC), name="status-static")
    return app

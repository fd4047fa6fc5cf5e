"""The registry app: create_app() builds routes and subscribers; the lifespan owns every connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.registry import api, handlers, pages
from services.registry.config import Settings
from services.registry.family import FamilyService
from services.registry.handovers import HandoverService
from services.registry.identity import FormatOnlyVerifier
from services.registry.outbox import Outbox
from services.registry.passwords import Passwords
from services.registry.service import PeopleService
from services.registry.venues import VenueService
from shared import jobs
from shared.asyncapi import contract
from shared.events import REGISTRY_TOPIC
from shared.jobs import Job
from shared.kafka import make_router
from shared.ratelimit import RateLimiter, Window
from shared.runtime import open_runtime
from shared.web import service_app

NAME = "registry"
MIGRATIONS = Path(__file__).parent / "migrations"
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
            schema="registry",
            migrations=MIGRATIONS,
            topics=[REGISTRY_TOPIC],
        ) as runtime:
            assert runtime.pool is not None
            app.state.runtime = runtime
            outbox = Outbox(runtime.pool, router, settings.infra.kafka)
            limiter = RateLimiter(
                runtime.redis,
                runtime.redis_prefix,
                "registry-login-failures",
                [Window(settings.login_failures_allowed, settings.login_failure_window_s)],
            )
            app.state.outbox = outbox
            app.state.people = PeopleService(
                pool=runtime.pool,
                vault=runtime.vault,
                verifier=FormatOnlyVerifier(),
                passwords=Passwords(),
                outbox=outbox,
                login_failures=limiter,
                tokens=app.state.access_tokens,
            )
            app.state.family = FamilyService(
                pool=runtime.pool,
                vault=runtime.vault,
                verifier=FormatOnlyVerifier(),
                outbox=outbox,
                timezone=settings.timezone,
            )
            app.state.venues = VenueService(
                runtime.pool, outbox, runtime.signer, settings.infra.public_base_url
            )
            app.state.handovers = HandoverService(runtime.pool, outbox)
            relay = Job("registry.outbox", settings.outbox_relay_interval_s, outbox.relay_round)
            async with jobs.running(runtime.pool, [relay]):
                yield

    app = service_app(NAME, lifespan)
    contract(app, router, settings.infra.kafka, NAME, publishes=[REGISTRY_TOPIC])
    handlers.register(router, settings)
    app.include_router(router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/registry/static", StaticFiles(directory=STATIC), name="registry-static")
    return app

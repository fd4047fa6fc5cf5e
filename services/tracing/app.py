"""The tracing app: create_app() builds routes and subscribers; the lifespan owns every connection."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from services.tracing import api, api_alerts, api_compliance, api_outbreaks, handlers, pages, store
from services.tracing.alerts import AlertService
from services.tracing.compliance import ComplianceService
from services.tracing.config import Settings
from services.tracing.outbreaks import OutbreakService, Retention
from services.tracing.service import TracingService
from shared import jobs
from shared.asyncapi import contract
from shared.events import (
    CHECKINS_TOPIC,
    REGISTRY_TOPIC,
    STATUS_COMMANDS_TOPIC,
    StatusCommand,
    StatusSet,
    dlq,
)
from shared.jobs import Job
from shared.kafka import make_router, publish
from shared.runtime import open_runtime
from shared.settings import PostgresSettings
from shared.web import service_app

NAME = "tracing"
MIGRATIONS = Path(__file__).parent / "migrations"
# Every tracing statement reads the day partitions. A custom plan is made again on every
# execution across all of them (a depth-1 contact query planned in 5-19 ms and ran in 2-5 ms
# on 20 M rows, 29 partitions), and Postgres keeps choosing custom plans because a generic
# plan's estimate counts every partition. A generic plan is made once per connection and
# prunes partitions when it starts: depth-1 p50 6.8 -> 2.3 ms (``venuecode bench contacts``).
SESSION_SETTINGS = {"plan_cache_mode": "force_generic_plan"}
# Citus plans a query that reaches several shards only with its parameters' values: under
# a generic plan even ``WHERE person_id = $1`` fails ("could not create distributed plan",
# seen on Citus 13.0.5). On Citus, sessions keep Postgres's default mode instead; pruning
# then happens on each worker, per shard, with the values bound (docs/operations.md).
CITUS_SESSION_SETTINGS = {"plan_cache_mode": "auto"}
STATIC = Path(__file__).parent / "static"
# Status commands are sent this many at a time: each waits for acks=all, and
# a few hundred in flight keep one producer busy without flooding it.
PUBLISH_CHUNK = 500


def upkeep_job(service: TracingService, settings: Settings) -> Job:
    """Partitions ahead, retention behind: once per platform every interval (``shared.jobs``).

    Its work is the number of partitions created and dropped.
    """

    async def maintain() -> int:
        created, dropped = await service.maintain()
        return len(created) + len(dropped)

    interval = settings.maintenance_interval_s
    return Job("tracing.upkeep", interval, maintain, first_s=interval)


def command_key(command: StatusCommand) -> bytes:
    """A person's commands share a partition, so they apply in order; an alert's revert goes
    under the alert (the status service ignores a set of an alert it already reverted)."""
    subject = command.data.person_id if isinstance(command, StatusSet) else command.data.alert_id
    return str(subject).encode()


async def _sessions_for_citus(pool: asyncpg.Pool, postgres: PostgresSettings) -> None:
    """Distribute the store where Citus is installed and, there, reopen the pool's sessions
    with ``CITUS_SESSION_SETTINGS``."""
    async with pool.acquire() as conn:
        if await store.distribute_on_citus(conn) != "distributed":
            return
    pool.set_connect_args(
        postgres.url, command_timeout=postgres.command_timeout_s, server_settings=CITUS_SESSION_SETTINGS
    )
    await pool.expire_connections()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    router = make_router(settings.infra.kafka, NAME)
    kafka = settings.infra.kafka

    async def publish_status(commands: Sequence[StatusCommand]) -> None:
        for start in range(0, len(commands), PUBLISH_CHUNK):
            chunk = commands[start : start + PUBLISH_CHUNK]
            await asyncio.gather(
                *(publish(router, kafka, STATUS_COMMANDS_TOPIC, [c], key=command_key(c)) for c in chunk)
            )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(
            app,
            settings.infra,
            router=router,
            schema="tracing",
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
            await _sessions_for_citus(runtime.pool, settings.infra.postgres)
            service = TracingService(
                runtime.pool,
                retention_days=settings.retention_days,
                audit_retention_days=max(settings.audit_retention_days, settings.retention_days),
                partitions_ahead_days=settings.partitions_ahead_days,
                publish_status=publish_status,
            )
            upkeep = upkeep_job(service, settings)
            # Today's partitions must exist before this replica ingests: its first round waits
            # for the lock (another replica may be making them) instead of skipping.
            await jobs.run_round(runtime.pool, upkeep, wait=True)
            app.state.runtime = runtime
            app.state.tracing = service
            retention = Retention(settings.retention_days)
            app.state.outbreaks = OutbreakService(runtime.pool, retention)
            app.state.alerts = AlertService(runtime.pool, retention, publish_status)
            app.state.compliance = ComplianceService(runtime.pool)
            # What startup built lives as long as the worker. Frozen, it is no longer walked by
            # the collections that ingestion triggers (each batch makes ~10 objects an event):
            # decoding went from ~7.5 to ~5 µs an event in a profile of the consumer path.
            # Thawed on the way out, so a test process that starts many apps frees their garbage.
            gc.freeze()
            try:
                async with jobs.running(runtime.pool, [upkeep]):
                    yield
            finally:
                gc.unfreeze()

    app = service_app(NAME, lifespan)
    contract(app, router, settings.infra.kafka, NAME, publishes=[STATUS_COMMANDS_TOPIC])
    handlers.register(router, settings, lambda: app.state.tracing)
    app.include_router(router)
    app.include_router(api.router)
    app.include_router(api_outbreaks.router)
    app.include_router(api_alerts.router)
    app.include_router(api_compliance.router)
    app.include_router(pages.router)
    app.mount("/tracing/static", StaticFiles(directory=STATIC), name="tracing-static")
    return app

"""What the tracing app is built of: the store, the rules, the pipeline and the publisher, made
once per app by ``build_services`` and reached by routes and subscribers through ``services``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.tracing.alerts import AlertService
from services.tracing.compliance import ComplianceService
from services.tracing.config import Settings
from services.tracing.outbreaks import OutbreakService
from services.tracing.pipeline import CheckinPipeline, DeadLetters, Ingest
from services.tracing.readmodel import RegistryProjection
from services.tracing.retention import Retention
from services.tracing.service import TracingService
from services.tracing.store import Store
from shared.events import STATUS_COMMANDS_TOPIC
from shared.jobs import Job
from shared.kafka import Publisher
from shared.pii import Vault
from shared.runtime import Runtime


@dataclass(frozen=True)
class Services:
    store: Store
    tracing: TracingService
    outbreaks: OutbreakService
    alerts: AlertService
    compliance: ComplianceService
    registry: RegistryProjection
    ingest: Ingest
    pipeline: CheckinPipeline
    # status.set and status.revert, to the status service (``commands.send_commands``).
    status_commands: Publisher
    vault: Vault
    upkeep: Job


def upkeep_job(tracing: TracingService, ingest: Ingest, settings: Settings) -> Job:
    """Partitions ahead, retention behind: once per platform every interval (``shared.jobs``).

    Its work is the number of partitions created and dropped.
    """

    async def maintain() -> int:
        ingest.forget_partitions()  # the round may drop partitions this replica made sure of
        created, dropped = await tracing.maintain()
        return len(created) + len(dropped)

    interval = settings.maintenance_interval_s
    return Job("tracing.upkeep", interval, maintain, first_s=interval)


async def build_services(runtime: Runtime, settings: Settings) -> Services:
    store = Store(runtime.pool)
    await store.open_for_citus(settings.infra.postgres)
    retention = Retention(settings.retention_days)
    status_commands = Publisher(runtime.router, settings.infra.kafka, STATUS_COMMANDS_TOPIC)
    tracing = TracingService(
        store,
        retention,
        status_commands,
        audit_retention_days=settings.audit_retention_days,
        partitions_ahead_days=settings.partitions_ahead_days,
    )
    ingest = Ingest(store, retention)
    return Services(
        store=store,
        tracing=tracing,
        outbreaks=OutbreakService(store, retention),
        alerts=AlertService(store, retention, status_commands),
        compliance=ComplianceService(store),
        registry=RegistryProjection(store),
        ingest=ingest,
        pipeline=CheckinPipeline(ingest, DeadLetters(runtime.router, settings.infra.kafka)),
        status_commands=status_commands,
        vault=runtime.vault,
        upkeep=upkeep_job(tracing, ingest, settings),
    )


async def services(request: Request) -> Services:  # async: no thread hop (shared/auth.py)
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]

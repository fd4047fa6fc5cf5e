"""What the status routes, pages and subscribers call: ``Services``, built once the lifespan has
opened the connections, and the one FastAPI dependency that hands it out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.status.cache import ColourCache, lookup_limiter
from services.status.codes import HealthCodes
from services.status.config import Settings
from services.status.lookup import AssistedLookup
from services.status.models import Clock
from services.status.service import StatusService
from services.status.store import Store
from shared.events import STATUS_TOPIC
from shared.jobs import Job
from shared.kafka import Publisher
from shared.outbox import Outbox
from shared.runtime import Runtime

# An outbox row younger than this may still be in its request's own publish: the relay leaves it.
OUTBOX_GRACE_S = 5.0


@dataclass(frozen=True)
class Services:
    # The connections (pool, Redis, broker, keys) the service was built on; tests and readyz read them.
    runtime: Runtime
    store: Store
    status: StatusService
    codes: HealthCodes
    lookup: AssistedLookup
    # status.changed and paper_code.issued, keyed by person, sent through the outbox.
    status_events: Publisher
    outbox: Outbox


def build_services(runtime: Runtime, settings: Settings, clock: Clock) -> Services:
    store = Store(runtime.pool)
    status_events = Publisher(runtime.router, settings.infra.kafka, STATUS_TOPIC)
    outbox = Outbox(
        "status",
        store.outbox,
        [status_events],
        min_age_s=OUTBOX_GRACE_S,
        retention_s=settings.outbox_retention_s,
    )
    status = StatusService(
        store,
        ColourCache(runtime.redis, runtime.redis_prefix),
        outbox,
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
    return Services(runtime, store, status, codes, lookup, status_events, outbox)


def periodic_jobs(services: Services, settings: Settings) -> list[Job]:
    """The status service's rounds, each once per platform (``shared.jobs``)."""
    status = services.status
    sweep = settings.sweep_interval_s
    return [
        # The cache is checked at once: a cold cache shows "unknown" at every door.
        Job("status.cache", settings.cache_check_interval_s, status.ensure_cache),
        Job("status.sweep", sweep, status.sweep_expired, first_s=sweep),
        *services.outbox.jobs(settings.outbox_relay_interval_s, settings.outbox_prune_interval_s),
    ]


async def services(request: Request) -> Services:  # async: no thread hop (shared/auth.py)
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]

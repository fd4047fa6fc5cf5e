"""What the checkin service is made of, built once at start, and the one dependency that hands it
to api.py and pages.py (and the projections to handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from services.checkin.cache import CheckinCache
from services.checkin.config import Settings
from services.checkin.memory import Memory
from services.checkin.readmodel import RegistryProjection, StatusProjection
from services.checkin.service import CheckinService
from services.checkin.store import Store
from shared.events import CHECKINS_TOPIC
from shared.kafka import Publisher
from shared.runtime import Runtime


@dataclass(frozen=True)
class Services:
    runtime: Runtime
    store: Store
    # The venues and families a scan reads, in process memory (memory.py).
    memory: Memory
    cache: CheckinCache
    # Every check-in and check-out goes to venuecode.checkins.v1 through this.
    checkins: Publisher
    scans: CheckinService
    registry: RegistryProjection
    status: StatusProjection
    # The reverse scan's JavaScript QR decoder, served from node_modules (config.py).
    qr_decoder: Path


def build_services(runtime: Runtime, settings: Settings) -> Services:
    store = Store(runtime.pool)
    memory = Memory(store, settings.readmodel_poll_s)
    cache = CheckinCache(runtime.redis, runtime.redis_prefix)
    checkins = Publisher(runtime.router, settings.infra.kafka, CHECKINS_TOPIC)
    return Services(
        runtime=runtime,
        store=store,
        memory=memory,
        cache=cache,
        checkins=checkins,
        scans=CheckinService(store, memory, cache, runtime.signer, checkins),
        registry=RegistryProjection(store),
        status=StatusProjection(store),
        qr_decoder=settings.qr_decoder,
    )


async def services(request: Request) -> Services:  # async: no thread hop (shared/auth.py)
    built: Services = request.app.state.services
    return built


ServicesDep = Annotated[Services, Depends(services)]

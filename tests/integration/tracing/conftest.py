"""Fixtures of the tracing integration tests: a migrated store on the test's own database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest
from pydantic import BaseModel

from services.tracing.app import MIGRATIONS, SESSION_SETTINGS
from services.tracing.pipeline import Ingest
from services.tracing.readmodel import RegistryProjection
from services.tracing.retention import Retention
from services.tracing.service import TracingService
from services.tracing.store import Store
from shared.db import create_pool, migrate
from shared.events import StatusSet
from shared.settings import InfraSettings


class Recorder:
    """A status-command sender that keeps what it was given (the sets; reverts are left out)."""

    def __init__(self, sent: list[StatusSet]) -> None:
        self.sent = sent

    async def send(self, events: Sequence[BaseModel], key: bytes) -> None:
        self.sent.extend(e for e in events if isinstance(e, StatusSet))


@pytest.fixture
async def pool(infra: InfraSettings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(infra.postgres, server_settings=SESSION_SETTINGS)  # as the service's
    await migrate(pool, "tracing", MIGRATIONS)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def sent() -> list[StatusSet]:
    return []


@pytest.fixture
def store(pool: asyncpg.Pool) -> Store:
    return Store(pool)


@pytest.fixture
def ingest(store: Store) -> Ingest:
    return Ingest(store, Retention(21))


@pytest.fixture
def registry(store: Store) -> RegistryProjection:
    return RegistryProjection(store)


@pytest.fixture
async def tracing(store: Store, sent: list[StatusSet]) -> TracingService:
    service = TracingService(store, Retention(21), Recorder(sent), partitions_ahead_days=2)
    await service.maintain()
    return service

"""Fixtures of the tracing integration tests: a migrated store on the test's own database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest

from services.tracing.app import MIGRATIONS, SESSION_SETTINGS
from services.tracing.service import TracingService
from shared.db import create_pool, migrate
from shared.events import StatusSet
from shared.settings import InfraSettings


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
async def tracing(pool: asyncpg.Pool, sent: list[StatusSet]) -> TracingService:
    async def collect(commands: Sequence[StatusSet]) -> None:
        sent.extend(commands)

    service = TracingService(pool, retention_days=21, partitions_ahead_days=2, publish_status=collect)
    await service.maintain()
    return service

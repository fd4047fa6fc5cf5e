"""Fixtures of the fault tests: each test's own broker and Redis, stopped whatever happens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.faults.servers import PrivateBroker, PrivatePostgres, PrivateRedis


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[PrivateBroker]:
    server = PrivateBroker(tmp_path / "broker")
    try:
        await server.astart()
        yield server
    finally:
        await server.astop()


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    try:
        await server.astart()
        yield server
    finally:
        await server.astop()


@pytest.fixture
async def postgres_server(tmp_path: Path) -> AsyncIterator[PrivatePostgres]:
    server = PrivatePostgres(tmp_path / "pg")
    try:
        await server.astart()
        yield server
    finally:
        await server.astop()

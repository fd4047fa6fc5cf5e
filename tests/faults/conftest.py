"""Fixtures of the fault tests: each test's own broker and Redis, stopped whatever happens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.faults.servers import PrivateBroker, PrivatePostgres, PrivateRedis, PrivateRedisCluster


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[PrivateBroker]:
    server = PrivateBroker(tmp_path / "broker")
    try:
        await server.astart()
        yield server
    finally:
        await server.astop()


@pytest.fixture
async def redis_server(tmp_path: Path, redis_kind: str) -> AsyncIterator[PrivateRedis | PrivateRedisCluster]:
    """One Redis, or a Redis Cluster in the ``[cluster]`` runs (``redis_kind``)."""
    server = (
        PrivateRedisCluster(tmp_path / "redis")
        if redis_kind == "cluster"
        else PrivateRedis(tmp_path / "redis")
    )
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

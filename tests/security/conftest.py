"""Fixtures of the security tests: one database, namespace and key prefix per module, and a live world."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from shared.db import with_database
from shared.settings import InfraSettings
from tests.conftest import SHORT_SESSIONS, Stack
from tests.security.live import live_platform
from tests.security.world import World, build_world


@pytest.fixture(scope="module")
async def module_infra(stack: Stack, state_dir: Path) -> AsyncIterator[InfraSettings]:
    """Like ``infra``, but shared by one module's tests, so the world is set up once."""
    unique = uuid.uuid4().hex[:12]
    name = f"vc_sec_{unique}"
    admin = await asyncpg.connect(stack.postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield InfraSettings(
            env="test",
            postgres_url=with_database(stack.postgres_url, name),
            redis_url=stack.redis_url,
            kafka_bootstrap=stack.kafka_bootstrap,
            kafka_namespace=f"s{unique}.",
            redis_key_prefix=f"s{unique}:",
            state_dir=state_dir,
            public_base_url="http://testserver",
            **SHORT_SESSIONS,
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        await _delete_keys(stack.redis_url, f"s{unique}:")


async def _delete_keys(url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        async for key in redis.scan_iter(match=f"{prefix}*", count=500):
            await redis.delete(key)
    finally:
        await redis.aclose()


@pytest.fixture(scope="module")
def origin(module_infra: InfraSettings) -> Iterator[str]:
    """The four apps on a real socket for this module."""
    with live_platform(module_infra) as url:
        yield url


@pytest.fixture(scope="module")
async def world(module_infra: InfraSettings, origin: str) -> World:
    return await build_world(module_infra, origin)

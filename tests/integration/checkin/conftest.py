"""Fixtures of the checkin integration tests: the app on this test's own infrastructure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from fastapi import FastAPI

from services.checkin.app import create_app
from services.checkin.config import Settings
from shared.cache import RedisClient, create_redis
from shared.settings import InfraSettings
from tests.integration.checkin.kit import World, build_world

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def redis(infra: InfraSettings) -> AsyncIterator[RedisClient]:
    """A Redis client for the test; on the way out it deletes every key under the test's prefix."""
    client = create_redis(infra.redis)
    try:
        yield client
    finally:
        keys = [k async for k in client.scan_iter(match=f"{infra.redis.key_prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture(autouse=True)
async def _clean_redis(redis: RedisClient) -> None:
    """Every checkin integration test leaves no keys behind in the shared Redis."""


@pytest.fixture
def app(infra: InfraSettings) -> FastAPI:
    return create_app(Settings(infra=infra))


@pytest.fixture
async def client(app: FastAPI, serve: Serve) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as running:
        yield running


@pytest.fixture
async def world(app: FastAPI, client: httpx.AsyncClient) -> World:
    return await build_world(app)

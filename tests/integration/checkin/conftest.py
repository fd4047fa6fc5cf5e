"""Fixtures of the checkin integration tests: the app on this test's own infrastructure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from fastapi import FastAPI

from services.checkin.app import create_app
from services.checkin.config import Settings
from shared.settings import InfraSettings
from tests.integration.checkin.kit import World, build_world

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


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

"""Fixtures of the tracing unit tests."""

from __future__ import annotations

import httpx
import pytest

from services.tracing.app import create_app
from services.tracing.config import Settings
from shared.settings import InfraSettings


@pytest.fixture
def client() -> httpx.AsyncClient:
    """The tracing app for its pages. No lifespan: a page needs no connection, and building the
    app does no I/O."""
    app = create_app(Settings(infra=InfraSettings(env="test")))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

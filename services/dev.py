"""``venuecode dev``: the four apps on one origin and one port, on embedded servers where no URL is given.

The dispatcher routes by path prefix exactly as the production gateway does
(deploy/), and runs every app's lifespan so their Kafka subscribers consume.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from types import FrameType

import uvicorn
from fastapi import FastAPI
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Receive, Scope, Send

from services.devstack import export, infrastructure
from services.embedded import EmbeddedError
from shared import topics
from shared.logging import configure_logging
from shared.settings import InfraSettings

log = logging.getLogger("venuecode.dev")

SERVICES = ("registry", "checkin", "status", "tracing")
# Path prefixes of each service on the one origin (see DESIGN.md, "One origin").
# The registry also serves "/" and the shared assets, so it takes whatever no other claims.
PREFIXES: dict[str, tuple[str, ...]] = {
    "checkin": ("/api/checkin", "/checkin", "/c/"),
    "status": ("/api/status", "/status"),
    "tracing": ("/api/tracing", "/tracing"),
    "registry": ("/api/registry", "/registry", "/static", "/"),
}
DEFAULT_SERVICE = "registry"


class DevSettings(BaseSettings):
    """Knobs of the dev runner, under ``VENUECODE_DEV_``."""

    model_config = SettingsConfigDict(env_prefix="VENUECODE_DEV_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000


def _owns(prefix: str, path: str) -> bool:
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def service_of(path: str) -> str:
    """Which service answers ``path`` on the one origin."""
    for service, prefixes in PREFIXES.items():
        if service != DEFAULT_SERVICE and any(_owns(p, path) for p in prefixes):
            return service
    return DEFAULT_SERVICE


class Dispatcher:
    """One ASGI app in front of the four: routes requests by prefix, runs their lifespans in order."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app: ASGIApp = self.apps[service_of(scope.get("path", "/"))]
        await app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        async with AsyncExitStack() as stack:
            try:
                # Started in order, closed in reverse by the exit stack.
                for name, app in self.apps.items():
                    await stack.enter_async_context(app.router.lifespan_context(app))
                    log.info("service started", extra={"service": name})
            except Exception as exc:
                log.exception("a service did not start")
                await stack.aclose()
                await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
                return
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            assert message["type"] == "lifespan.shutdown"
            try:
                await stack.aclose()
            except Exception as exc:
                log.exception("a service did not stop cleanly")
                await send({"type": "lifespan.shutdown.failed", "message": f"{type(exc).__name__}: {exc}"})
                return
        await send({"type": "lifespan.shutdown.complete"})


def create_app(service: str) -> FastAPI:
    """``services.<service>.app.create_app()``, imported only when asked for."""
    module = importlib.import_module(f"services.{service}.app")
    app: FastAPI = module.create_app()
    return app


def create_dispatcher(services: Sequence[str] = SERVICES) -> Dispatcher:
    return Dispatcher({name: create_app(name) for name in services})


class _Server(uvicorn.Server):
    """Says where the platform answers once the socket is bound and every app started."""

    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(f"venuecode is running at {self.url}", flush=True)


def _stop_on_sigterm() -> None:
    # SIGTERM ends the run like Ctrl-C, so the embedded servers are stopped too.
    # uvicorn installs its own handlers while serving and hands the signal back here afterwards.
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def run(port: int | None = None, host: str | None = None) -> int:
    """Start what is missing, serve the four apps, stop everything on Ctrl-C or SIGTERM."""
    settings = DevSettings()
    infra = InfraSettings()
    configure_logging(infra.log_level)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    _stop_on_sigterm()
    host = host or settings.host
    port = port or settings.port
    try:
        with infrastructure(infra.state_dir, owner=True) as urls:
            export(urls)
            # As in production, the topics exist before any service starts (the services would
            # make theirs too, outside production).
            asyncio.run(topics.create(InfraSettings().kafka))
            config = uvicorn.Config(
                create_dispatcher(),
                host=host,
                port=port,
                loop="uvloop",
                http="httptools",
                lifespan="on",
                log_config=None,
                timeout_graceful_shutdown=10,
            )
            server = _Server(config, f"http://{host}:{port}")
            server.run()
            if not server.started:
                return 1
    except KeyboardInterrupt:
        pass
    except EmbeddedError as exc:
        print(f"venuecode dev: {exc}", file=sys.stderr)
        return 1
    return 0

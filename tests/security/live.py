"""The four apps behind one origin on a real socket: uvicorn in its own thread and event loop.

Schemathesis and the burst tests are real HTTP clients, so they need a real
server; running it in a thread keeps the apps' pools and brokers on the loop
that opened them, whatever loop the client side uses.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from services.dev import Dispatcher
from shared.settings import InfraSettings

# Starting four apps (migrations, topics, consumer groups joining tansu) takes seconds here.
START_TIMEOUT_S = 90.0


def apps_for(infra: InfraSettings) -> dict[str, FastAPI]:
    from services.checkin.app import create_app as checkin_app
    from services.checkin.config import Settings as CheckinSettings
    from services.registry.app import create_app as registry_app
    from services.registry.config import Settings as RegistrySettings
    from services.status.app import create_app as status_app
    from services.status.config import Settings as StatusSettings
    from services.tracing.app import create_app as tracing_app
    from services.tracing.config import Settings as TracingSettings

    return {
        "registry": registry_app(RegistrySettings(infra=infra)),
        "checkin": checkin_app(CheckinSettings(infra=infra)),
        "status": status_app(StatusSettings(infra=infra)),
        "tracing": tracing_app(TracingSettings(infra=infra)),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_platform(infra: InfraSettings) -> Iterator[str]:
    """Serve the platform on 127.0.0.1 and yield its origin; stop it (and its lifespans) on exit."""
    port = _free_port()
    config = uvicorn.Config(
        Dispatcher(apps_for(infra)),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        # Bursts of 50 concurrent clients must reach the app, not queue in the backlog.
        backlog=512,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-platform", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the live platform did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)

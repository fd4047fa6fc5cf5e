"""The HTTP shell every service app shares: problem+json errors, health and readiness,
metrics, OpenAPI under the service's prefix, security headers and a body-size limit.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import PlainSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PayloadTooLarge, Unavailable, install_problem_handlers, problem_response
from shared.i18n import language_of
from shared.metrics import DEPENDENCY_UP, MetricsMiddleware, metrics_endpoint
from shared.pages import static_files
from shared.telemetry import instrument_app

# An instant in an answer, written as Python writes it (``+00:00``, not pydantic's ``Z``): the
# answers were written so before they had response models, and API.md's examples show them so.
Instant = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]

# A readiness check answers True when ready; False (unreachable) or why not (a string) otherwise.
Check = Callable[[], Awaitable[bool | str]]
# JSON bodies here are small (a check-in is a few hundred bytes); 64 KiB leaves
# room for every form while refusing floods before anything is parsed.
MAX_BODY_BYTES = 64 * 1024

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class GuardMiddleware:
    """Adds the security headers to every answer and refuses oversized bodies before parsing."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in present
                ]
            await send(message)

        length = dict(scope.get("headers", [])).get(b"content-length")

        def too_large_answer() -> Response:  # built only when needed: most requests are small
            problem = PayloadTooLarge(f"The body may hold at most {self.max_body} bytes.")
            return problem_response(problem, language_of(Request(scope)))

        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            response = too_large_answer()
            await response(scope, receive, send_with_headers)
            return

        received = 0
        too_large = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    # A body without Content-Length (chunked) grew too large: the app sees the
                    # client leave, and the 413 below replaces whatever it answers to that.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        await self.app(scope, counting_receive, guarded_send)
        if too_large and not started:
            await too_large_answer()(scope, receive, send_with_headers)


def service_app(
    name: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    **fastapi: Any,
) -> FastAPI:
    """A FastAPI app for one service, with its prefix ``/api/<name>``.

    The lifespan must put readiness checks into ``app.state.readiness``
    (a dict of name to async check) before it yields.
    """
    prefix = f"/api/{name}"
    app = FastAPI(
        title=f"venuecode {name}",
        version="1.0.0",
        openapi_url=f"{prefix}/openapi.json",
        docs_url=f"{prefix}/docs",
        redoc_url=None,
        lifespan=lifespan,
        **fastapi,
    )
    app.state.readiness = {}
    app.state.service_name = name
    install_problem_handlers(app)
    _secure_unexpected_errors(app)
    app.add_middleware(GuardMiddleware)
    app.add_middleware(MetricsMiddleware, service=name)
    app.include_router(health_router(prefix))
    # Every service serves the shared page assets, so each one also runs alone.
    app.mount("/static", static_files(), name="static")
    instrument_app(app, name)
    return app


def _secure_unexpected_errors(app: FastAPI) -> None:
    # Starlette answers an unhandled error outside every middleware, so the 500 gets
    # the security headers here rather than from GuardMiddleware.
    unexpected = app.exception_handlers[Exception]

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        answer = unexpected(request, exc)
        response = await answer if inspect.isawaitable(answer) else answer
        for key, value in SECURITY_HEADERS:
            response.headers.setdefault(key.decode(), value.decode())
        return response

    app.add_exception_handler(Exception, on_unexpected)


def health_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["health"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Postgres, Redis and Kafka are reachable",
        responses={503: {"description": "A dependency is down"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        answers = await readiness(request.app)
        status = {n: a is True for n, a in answers.items()}
        if not all(status.values()):
            down = "; ".join(
                f"{n}: {a}" if isinstance(a, str) else f"{n} unreachable"
                for n, a in answers.items()
                if a is not True
            )
            return problem_response(Unavailable(f"Not ready: {down}.", 5), language_of(request))
        return JSONResponse({"status": "ready", "checks": status})

    async def metrics(request: Request) -> Response:
        # Each scrape checks the dependencies too, so an outage shows without anyone probing /readyz.
        await readiness(request.app)
        return await metrics_endpoint(request)

    router.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    return router


async def readiness(app: FastAPI) -> dict[str, object]:
    """Run the app's readiness checks at once: each answer is True when ready, else a reason
    (a string naming what is missing) or the error; each is also the ``venuecode_dependency_up``
    gauge."""
    checks: dict[str, Check] = app.state.readiness
    names = list(checks)
    results = await asyncio.gather(*(checks[n]() for n in names), return_exceptions=True)
    answers: dict[str, object] = dict(zip(names, results, strict=True))
    for name, answer in answers.items():
        DEPENDENCY_UP.labels(app.state.service_name, name).set(1 if answer is True else 0)
    return answers


def run_server(factory: str, *, host: str, port: int, workers: int) -> None:
    """Serve the app that ``factory`` (``module:function``) builds, as every service is served:
    uvicorn on uvloop and httptools, our logging, the client address from the proxy headers."""
    import uvicorn  # only the processes that serve load it

    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_config=None,
        proxy_headers=True,
    )

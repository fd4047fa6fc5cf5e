"""Prometheus metrics: HTTP request counts and latencies per service and route, and ``/metrics``."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "venuecode_http_requests_total",
    "HTTP requests answered",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "venuecode_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
EVENTS_CONSUMED = Counter(
    "venuecode_events_consumed_total",
    "Events handled by subscribers",
    ["service", "topic", "outcome"],
)
EVENTS_PUBLISHED = Counter(
    "venuecode_events_published_total", "Events acknowledged by the broker", ["service", "topic"]
)
CONSUMER_LAG = Gauge(
    "venuecode_consumer_lag_messages",
    "Messages not yet consumed",
    ["service", "topic", "partition"],
)


def _route_of(scope: Scope) -> str:
    # The route template, not the path: paths hold ids and would explode the label set.
    app = scope.get("app")
    router = getattr(app, "router", None)
    for route in getattr(router, "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI: no per-request task or body copy)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_of(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, route).observe(time.perf_counter() - started)


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

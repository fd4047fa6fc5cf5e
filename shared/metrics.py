"""Prometheus metrics: HTTP request counts and latencies per service and route, the event flow, the
health of dependencies and periodic jobs, and ``/metrics``.

deploy/observability/ holds the alert rules and dashboards built on these names; a test checks
that every name they use is one that some service's ``/metrics`` exports.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.events import DLQ_SUFFIX

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
CONSUMER_LAG = Gauge(
    "venuecode_consumer_lag_messages",
    "Messages not yet consumed",
    ["service", "topic", "partition"],
)
DEAD_LETTERS = Counter("venuecode_dead_letters_total", "Messages parked on a topic's .dlq twin", ["topic"])
PUBLISH_FAILURES = Counter(
    "venuecode_publish_failures_total", "Publishes the broker did not acknowledge in time", ["topic"]
)
DEPENDENCY_UP = Gauge(
    "venuecode_dependency_up",
    "1 when the service reached the dependency at its last readiness check (made on every scrape)",
    ["service", "dependency"],
)
JOB_FAILURES = Counter(
    "venuecode_job_failures_total", "Failed rounds of a periodic job (retried next round)", ["service", "job"]
)
OUTBOX_BACKLOG = Gauge(
    "venuecode_outbox_backlog_rows",
    "Unsent outbox rows the relay found in its last round (at most one relay batch)",
    ["service"],
)
CACHE_REFILL_RUNNING = Gauge(
    "venuecode_cache_refill_running", "1 while the colour cache is being refilled from Postgres", ["service"]
)
CACHE_REFILLS = Counter("venuecode_cache_refills_total", "Colour cache refills finished", ["service"])


def declare_dead_letter_topics(topics: Iterable[str]) -> None:
    """Start the dead-letter counters of the topics whose ``.dlq`` twins a service uses at 0, so
    that the first parked message is an increase an alert rule can see."""
    for name in topics:
        if name.endswith(DLQ_SUFFIX):
            DEAD_LETTERS.labels(name.removesuffix(DLQ_SUFFIX))


def _route_of(scope: Scope) -> str:
    # The route template, not the path: paths hold ids and would explode the label set. The
    # router leaves the route it chose in the scope (Starlette's and FastAPI's included routers
    # alike). Matching every route again cost ~18 us a request (~2 % of a depth-1 contact query's
    # API CPU), and FastAPI's included routers have no path, so every API route was "other".
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
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

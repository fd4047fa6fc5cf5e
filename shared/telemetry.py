"""Distributed traces (OpenTelemetry): HTTP server spans, Kafka spans whose context rides in the
message headers, asyncpg and Redis spans; exported by OTLP when the standard variables ask for it.

Off by default: without ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) no provider
exists, no middleware is added and no library is patched, so a scan pays nothing for it.
Personal data stays out of spans: asyncpg spans carry the SQL text (every value is a ``$n``
parameter, and parameters are never captured), Redis spans the command with its arguments
replaced by ``?``, HTTP spans the route and the query string (ids only) but not the client's
address or user agent, Kafka spans topic, partition, offset and key (a venue or person id).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_PROPAGATOR = TraceContextTextMapPropagator()


class _State:
    """Where spans go (None: tracing is off) and one provider per service of this process."""

    processor: SpanProcessor | None = None
    providers: dict[str, TracerProvider] = {}  # noqa: RUF012 (one registry for the process)
    libraries: list[Any] = []  # noqa: RUF012 (the asyncpg and Redis instrumentors in use)


def enable(processor: SpanProcessor) -> None:
    """Send every span of this process to ``processor`` (from the environment, or a test's
    in-memory exporter) and patch asyncpg and Redis to make spans."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    disable()
    _State.processor = processor
    # asyncpg and Redis spans come from patched libraries, one global provider for them all.
    provider = _provider("venuecode")
    asyncpg = AsyncPGInstrumentor(capture_parameters=False)  # type: ignore[no-untyped-call]
    asyncpg.instrument(tracer_provider=provider)
    redis = RedisInstrumentor()
    redis.instrument(tracer_provider=provider)
    _State.libraries = [asyncpg, redis]


def disable() -> None:
    """Tracing off again: flush, unpatch the libraries, forget the providers."""
    for library in _State.libraries:
        library.uninstrument()
    for provider in _State.providers.values():
        provider.shutdown()
    _State.libraries, _State.providers, _State.processor = [], {}, None


def enable_from_environment() -> bool:
    """Turn tracing on when an OTLP endpoint is configured (and the SDK not disabled)."""
    if _State.processor is not None:
        return True
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if not any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # The exporter and the batch processor read the other standard variables themselves
    # (OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_*); the sampler comes from OTEL_TRACES_SAMPLER.
    enable(BatchSpanProcessor(OTLPSpanExporter()))
    return True


def enabled() -> bool:
    return _State.processor is not None


def _provider(service: str) -> TracerProvider:
    provider = _State.providers.get(service)
    if provider is None:
        assert _State.processor is not None
        name = os.environ.get("OTEL_SERVICE_NAME") or service
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(_State.processor)
        _State.providers[service] = provider
    return provider


def provider_of(service: str) -> TracerProvider | None:
    """The tracer provider of one service, or None when tracing is off."""
    if not enable_from_environment():
        return None
    return _provider(f"venuecode-{service}")


def broker_middlewares(service: str) -> tuple[Any, ...]:
    """FastStream's OpenTelemetry middleware for a service's broker (every publisher and
    subscriber), or nothing when tracing is off."""
    provider = provider_of(service)
    if provider is None:
        return ()
    from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

    return (KafkaTelemetryMiddleware(tracer_provider=provider, include_messages_counters=False),)


def instrument_app(app: FastAPI, service: str) -> None:
    """Server spans for every HTTP request of the app (health and metrics probes left out)."""
    provider = provider_of(service)
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=r"/healthz$,/readyz$,/metrics$,/static/",
        # The ASGI layer's own send/receive spans only repeat the server span.
        exclude_spans=["receive", "send"],
        server_request_hook=_redact_client,
    )


# A phone's address and user agent say who and where someone is: they stay out of spans (the
# instrumentation sets them before any hook runs, so they are overwritten, under either
# semantic-conventions name).
CLIENT_ATTRIBUTES = (
    "client.address",
    "client.port",
    "net.peer.ip",
    "net.peer.port",
    "http.client_ip",
    "user_agent.original",
    "http.user_agent",
)
REDACTED = "redacted"


def _redact_client(span: Span, scope: dict[str, Any]) -> None:
    attributes = getattr(span, "attributes", None) or {}
    for key in CLIENT_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, REDACTED)


def current_ids() -> tuple[str, str] | None:
    """The trace and span id (hex) of the span now current, for log lines; None when off."""
    if _State.processor is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def _header_carrier(record: Any) -> dict[str, str]:
    return {
        key: value.decode("latin-1")
        for key, value in (getattr(record, "headers", None) or ())
        if key in ("traceparent", "tracestate") and isinstance(value, bytes)
    }


@contextmanager
def spans_in_traces_of(records: Sequence[Any], name: str, service: str) -> Iterator[None]:
    """One span per trace that the records' headers carry, open for the duration of the block.

    A batch consumer serves many traces at once. FastStream's batch span starts a trace of
    its own, only linked to one record's; this continues each record's trace to the write
    that stored it, so a scan can be followed to its row. Nothing when tracing is off.
    """
    provider = provider_of(service) if _State.processor is not None else None
    if provider is None:
        yield
        return
    tracer = provider.get_tracer(__name__)
    seen: set[str] = set()
    spans: list[Span] = []
    for record in records:
        carrier = _header_carrier(record)
        parent = carrier.get("traceparent")
        if parent is None or parent in seen:
            continue
        seen.add(parent)
        spans.append(
            tracer.start_span(
                name,
                context=_PROPAGATOR.extract(carrier),
                kind=SpanKind.CONSUMER,
                attributes={"messaging.system": "kafka", "messaging.batch.message_count": len(records)},
            )
        )
    try:
        yield
    except BaseException as exc:
        for span in spans:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        for span in spans:
            span.end()

"""Traces: a scan followed from its HTTP request through Kafka to the tracing consumer's write,
and a notification from its request through the status commands to the colour change."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import orjson
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared.events import CHECKINS_TOPIC, STATUS_COMMANDS_TOPIC, STATUS_TOPIC
from shared.logging import JsonFormatter
from shared.settings import InfraSettings
from shared.telemetry import CLIENT_ATTRIBUTES, REDACTED
from tests.e2e.test_story import platform, whole_story
from tests.spans import recorded_spans
from tests.waiting import eventually


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(orjson.loads(self.format(record)))


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


def server_spans(spans: Sequence[ReadableSpan], route: str) -> list[ReadableSpan]:
    return [s for s in spans if s.kind is SpanKind.SERVER and s.attributes.get("http.route") == route]


def descendants(spans: Sequence[ReadableSpan], root: ReadableSpan) -> list[ReadableSpan]:
    """Every span below ``root`` by parent ids alone (what a trace viewer draws under it)."""
    children: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        if span.parent is not None:
            children.setdefault(span.parent.span_id, []).append(span)
    found: list[ReadableSpan] = []
    todo = [root.context.span_id]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.context.span_id)
    return found


def status_of(span: ReadableSpan) -> object:
    # The attribute's name depends on the semantic-conventions mode the instrumentation runs in.
    attributes = span.attributes or {}
    return attributes.get("http.response.status_code", attributes.get("http.status_code"))


def service_of(span: ReadableSpan) -> str:
    return str(span.resource.attributes.get("service.name"))


async def test_a_scan_and_a_notification_are_each_one_trace(
    infra: InfraSettings, spans: InMemorySpanExporter
) -> None:
    lines = Lines()
    ours = logging.getLogger("venuecode")
    level = ours.level
    ours.setLevel(logging.INFO)
    ours.addHandler(lines)
    try:
        async with platform(infra) as client:
            await whole_story(client, infra)
            # The story waits for the citizen's and the child's colours, not the elder's: the
            # third status command may still be in flight, so wait for its span before stopping.
            process = f"{infra.kafka.namespace}{STATUS_COMMANDS_TOPIC} process"

            def all_processed() -> bool:
                done = spans.get_finished_spans()
                sent = server_spans(done, "/api/tracing/v1/contact-queries/{query_id}/notifications")
                return any(sum(s.name == process for s in descendants(done, n)) >= 3 for n in sent)

            await eventually(all_processed, timeout_s=30)
    finally:
        ours.removeHandler(lines)
        ours.setLevel(level)
    recorded = spans.get_finished_spans()
    namespace = infra.kafka.namespace

    # The case's scan: the server span, its publish to the check-in topic, and the write of
    # the tracing consumer (another app, reached only through the message headers).
    scans = server_spans(recorded, "/api/checkin/v1/scans")
    assert scans, "no server span for the scans route"
    stored_somewhere = False
    for scan in scans:
        below = descendants(recorded, scan)
        assert all(s.context.trace_id == scan.context.trace_id for s in below)
        publishes = [s for s in below if s.name == f"{namespace}{CHECKINS_TOPIC} publish"]
        stores = [s for s in below if s.name == f"{CHECKINS_TOPIC} store"]
        if status_of(scan) == 201:
            assert publishes, "a recorded scan without its publish span"
            assert publishes[0].kind is SpanKind.PRODUCER
        if stores:
            stored_somewhere = True
            assert {service_of(s) for s in stores} == {"venuecode-tracing"}
            assert all(s.kind is SpanKind.CONSUMER for s in stores)
            assert all(s.start_time >= scan.start_time for s in stores)
    assert stored_somewhere, "no scan's trace reached the tracing consumer's write"

    # The notification: status commands published by tracing, consumed by status, whose
    # transaction writes the new colour and publishes status.changed, all in the one trace.
    (notification,) = server_spans(recorded, "/api/tracing/v1/contact-queries/{query_id}/notifications")
    assert service_of(notification) == "venuecode-tracing"
    below = descendants(recorded, notification)
    names = {s.name for s in below}
    assert f"{namespace}{STATUS_COMMANDS_TOPIC} publish" in names
    processed = [s for s in below if s.name == f"{namespace}{STATUS_COMMANDS_TOPIC} process"]
    assert len(processed) >= 3, names  # the citizen, the child and the elder
    assert {service_of(s) for s in processed} == {"venuecode-status"}
    writes = [
        s
        for p in processed
        for s in descendants(recorded, p)
        if s.attributes.get("db.system") == "postgresql" and "status" in str(s.attributes.get("db.statement"))
    ]
    assert writes, "the status change's SQL is not in the notification's trace"
    changed = f"{namespace}{STATUS_TOPIC} publish"
    assert any(s.name == changed for p in processed for s in descendants(recorded, p))

    # No server span says where its client was or what it ran.
    for span in (s for s in recorded if s.kind is SpanKind.SERVER):
        for key in CLIENT_ATTRIBUTES:
            assert (span.attributes or {}).get(key, REDACTED) == REDACTED, (span.name, key)
    # (The instrumentation did record an address: it was overwritten, not missing.)
    addresses = {
        (s.attributes or {}).get("client.address", (s.attributes or {}).get("net.peer.ip")) for s in scans
    }
    assert addresses == {REDACTED}

    # A log line written while a request is served names that request's trace and span.
    registrations = [s for s in server_spans(recorded, "/api/registry/v1/accounts") if status_of(s) == 201]
    registered = [line for line in lines.lines if line["msg"] == "account registered"]
    assert len(registered) == len(registrations) >= 8
    for line in registered:
        (span,) = [s for s in recorded if format(s.context.span_id, "016x") == line["span_id"]]
        assert format(span.context.trace_id, "032x") == line["trace_id"]
        assert any(r.context.trace_id == span.context.trace_id for r in registrations)

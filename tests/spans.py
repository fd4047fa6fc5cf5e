"""Spans recorded in the test process: an in-memory exporter behind shared.telemetry."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import telemetry


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the block (apps must be created inside it), every span kept in memory."""
    exporter = InMemorySpanExporter()
    telemetry.enable(SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        telemetry.disable()


def span_texts(spans: Sequence[ReadableSpan]) -> list[str]:
    """Everything a span exporter would send as text: names, attributes, events, links."""
    texts: list[str] = []
    for span in spans:
        texts.append(span.name)
        texts += [f"{k}={v}" for k, v in (span.attributes or {}).items()]
        for event in span.events:
            texts.append(event.name)
            texts += [f"{k}={v}" for k, v in (event.attributes or {}).items()]
        for link in span.links:
            texts += [f"{k}={v}" for k, v in (link.attributes or {}).items()]
        if span.status.description:
            texts.append(span.status.description)
    return texts

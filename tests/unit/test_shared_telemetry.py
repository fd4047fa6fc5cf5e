"""shared.telemetry: off unless an OTLP endpoint is configured, and then every hook is in place."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import orjson
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from shared import telemetry
from shared.logging import JsonFormatter
from tests.spans import recorded_spans


@pytest.fixture
def no_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in telemetry.ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield
    telemetry.disable()


def log_line() -> dict[str, object]:
    record = logging.makeLogRecord({"msg": "hello", "levelno": logging.INFO, "levelname": "INFO"})
    parsed: dict[str, object] = orjson.loads(JsonFormatter().format(record))
    return parsed


def test_off_without_an_endpoint(no_endpoint: None) -> None:
    assert not telemetry.enable_from_environment()
    assert telemetry.broker_middlewares("checkin") == ()
    app = FastAPI()
    telemetry.instrument_app(app, "checkin")
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    assert telemetry.current_ids() is None
    assert "trace_id" not in log_line()


def test_sdk_disabled_wins(no_endpoint: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not telemetry.enable_from_environment()


def test_on_with_an_endpoint(no_endpoint: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert telemetry.enable_from_environment()
    assert isinstance(telemetry._State.processor, BatchSpanProcessor)
    (middleware,) = telemetry.broker_middlewares("status")
    assert type(middleware).__name__ == "KafkaTelemetryMiddleware"
    provider = telemetry.provider_of("status")
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "venuecode-status"
    app = FastAPI()
    telemetry.instrument_app(app, "status")
    assert getattr(app, "_is_instrumented_by_opentelemetry", False)


def test_log_lines_carry_the_current_span() -> None:
    with recorded_spans() as exporter:
        provider = telemetry.provider_of("checkin")
        assert provider is not None
        with provider.get_tracer("test").start_as_current_span("work") as span:
            line = log_line()
        assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
        assert line["span_id"] == format(span.get_span_context().span_id, "016x")
        assert [s.name for s in exporter.get_finished_spans()] == ["work"]
    assert "trace_id" not in log_line()


class Record:
    def __init__(self, headers: list[tuple[str, bytes]]) -> None:
        self.headers = headers


def test_a_batch_continues_each_trace_once() -> None:
    first = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    second = "00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-01"
    records = [
        Record([("traceparent", first.encode())]),
        Record([("traceparent", first.encode()), ("x-other", b"1")]),
        Record([("traceparent", second.encode())]),
        Record([]),
    ]
    with recorded_spans() as exporter:
        with telemetry.spans_in_traces_of(records, "store", "tracing"):
            pass
        spans = exporter.get_finished_spans()
    assert sorted(format(s.context.trace_id, "032x") for s in spans) == [
        "0af7651916cd43dd8448eb211c80319c",
        "1af7651916cd43dd8448eb211c80319c",
    ]
    assert {format(s.parent.span_id, "016x") for s in spans if s.parent} == {
        "b7ad6b7169203331",
        "c7ad6b7169203331",
    }


def test_a_batch_makes_no_span_when_off(no_endpoint: None) -> None:
    with telemetry.spans_in_traces_of([Record([("traceparent", b"00-x")])], "store", "tracing"):
        assert telemetry.current_ids() is None

"""An OTLP/HTTP sink for benchmarks: accepts exported spans and drops them, counting what came.

The check-in benchmark's ``--tracing`` serves checkin a second time with tracing on, exporting
every span here, so the cost measured is the services' (spans made, batched, encoded and
sent), not a collector's. The sink is a thread of the benchmark process: its CPU (parsing
nothing, answering 200) is on the same two cores as everything else.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services.embedded import free_port


class Sink:
    def __init__(self) -> None:
        self.requests = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self.endpoint = ""


@contextmanager
def otlp_sink() -> Iterator[Sink]:
    sink = Sink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(size)
            with sink._lock:
                sink.requests += 1
                sink.bytes += size
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    sink.endpoint = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, name="otlp-sink", daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def without_tracing(env: dict[str, str]) -> dict[str, str]:
    """A service environment with every OpenTelemetry variable removed: tracing off."""
    return {k: v for k, v in env.items() if not k.startswith("OTEL_")}


def with_tracing(env: dict[str, str], endpoint: str, sample: float) -> dict[str, str]:
    """Tracing on, exporting to ``endpoint``; ``sample`` of the traces kept (1.0: every one)."""
    return {
        **without_tracing(env),
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": str(sample),
    }

"""The nginx gateway for real: its config passes ``nginx -t``, and in front of the four services
(``venuecode serve``) it routes every prefix to its service, answers health and readiness, adds
the security headers, refuses oversized bodies (413) and rate-limits a burst per address (429).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from services.dev import SERVICES
from services.embedded import free_port
from tests.e2e.test_story import whole_story
from tests.integration.deploy.conftest import (
    Gateway,
    nginx_check,
    render_gateway_config,
    spawn,
    stop,
    wait_ready,
)

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "strict-transport-security": "max-age=",
}
# Every path prefix of the one origin and the service that must answer it (common.md, DESIGN.md).
ROUTES = [
    ("/", "registry"),
    ("/registry/sign-in", "registry"),
    ("/static/venuecode.css", "registry"),
    ("/api/registry/healthz", "registry"),
    ("/api/checkin/healthz", "checkin"),
    ("/checkin/scan", "checkin"),
    ("/c/some-venue-token", "checkin"),
    ("/api/status/healthz", "status"),
    ("/status/health-code", "status"),
    ("/api/tracing/healthz", "tracing"),
    ("/tracing/queries", "tracing"),
]
BODY_LIMIT = 64 * 1024  # deploy/gateway/nginx.conf.template client_max_body_size 64k
# The strict zone allows a burst of 10 beyond 2 req/s; 40 quick requests must overflow it.
BURST = 40
# The general zone allows a burst of 400 beyond 100 req/s: 1,500 requests, 100 at a time, overflow
# it unless they take more than 11 s (the machine opens thousands of connections a second).
EDGE_BURST = 400
FLOOD = 1500
FLOOD_PARALLEL = 100


def _assert_security_headers(response: httpx.Response) -> None:
    for name, expected in SECURITY_HEADERS.items():
        values = response.headers.get_list(name)
        assert len(values) == 1, f"{name}: {values} on {response.request.url}"
        assert expected in values[0], f"{name}: {values[0]!r}"
    assert response.headers.get("x-request-id")


def test_rendered_config_passes_nginx_t(nginx: str, runtime_dir: Path) -> None:
    conf = render_gateway_config(
        runtime_dir,
        "127.0.0.1:8080",
        {service: f"127.0.0.1:{9000 + i}" for i, service in enumerate(SERVICES)},
    )
    text = conf.read_text()
    assert "${" not in text  # every placeholder was filled in
    for i, service in enumerate(SERVICES):
        assert f"upstream {service} {{" in text
        assert f"server 127.0.0.1:{9000 + i} " in text
    # nginx's own variables survive the rendering.
    assert "$remote_addr" in text
    assert "$binary_remote_addr" in text
    checked = nginx_check(nginx, conf)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


async def test_health_and_readiness_of_every_service(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10.0) as client:
        for service in SERVICES:
            healthz = await client.get(f"/api/{service}/healthz")
            assert healthz.status_code == 200, healthz.text
            assert healthz.json() == {"status": "ok"}
            readyz = await client.get(f"/api/{service}/readyz")
            assert readyz.status_code == 200, readyz.text
            assert readyz.json()["status"] == "ready"
            assert all(readyz.json()["checks"].values())
            openapi = await client.get(f"/api/{service}/openapi.json")
            assert openapi.status_code == 200
            assert openapi.json()["info"]["title"] == f"venuecode {service}"


async def test_every_prefix_reaches_its_service(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10.0) as client:
        for path, service in ROUTES:
            request_id = f"route-{uuid.uuid4().hex}"
            response = await client.get(path, headers={"X-Request-Id": request_id})
            assert response.status_code < 500, f"{path}: {response.status_code} {response.text[:200]}"
            assert response.headers["x-request-id"] == request_id
            assert await gateway.upstream_service(request_id) == service, f"{path} went elsewhere"
        # Metrics are scraped from each pod, never served on the public origin.
        request_id = f"metrics-{uuid.uuid4().hex}"
        response = await client.get("/api/checkin/metrics", headers={"X-Request-Id": request_id})
        assert response.status_code == 404
        assert await gateway.upstream_service(request_id) is None


async def test_the_whole_story_through_the_gateway(gateway: Gateway) -> None:
    """The end-to-end story of tests/e2e, driven through nginx to four separate processes.

    It runs before the burst tests below, so the per-address limits start fresh.
    """
    assert gateway.infra is not None
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
        await whole_story(client, gateway.infra)


async def test_security_headers_on_proxied_and_gateway_answers(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10.0) as client:
        _assert_security_headers(await client.get("/api/registry/healthz"))
        _assert_security_headers(await client.get("/c/no-such-token"))
        _assert_security_headers(await client.get("/api/tracing/metrics"))
        # A request id made up by a client is kept only when it is a sane token.
        response = await client.get("/api/status/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
        assert response.headers["x-request-id"] != "bad id\twith spaces"
        assert len(response.headers["x-request-id"]) == 32  # nginx's $request_id


async def test_oversized_body_is_refused_at_the_edge(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10.0) as client:
        request_id = f"big-{uuid.uuid4().hex}"
        response = await client.post(
            "/api/checkin/v1/checkins",
            content=b"{" + b" " * (BODY_LIMIT + 1024) + b"}",
            headers={"Content-Type": "application/json", "X-Request-Id": request_id},
        )
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 413
        _assert_security_headers(response)
        assert await gateway.upstream_service(request_id) is None  # no service saw it
        # A body just under the limit passes the gateway (the service then judges it).
        request_id = f"small-{uuid.uuid4().hex}"
        response = await client.post(
            "/api/checkin/v1/checkins",
            content=b"{}",
            headers={"Content-Type": "application/json", "X-Request-Id": request_id},
        )
        assert response.status_code != 413
        assert await gateway.upstream_service(request_id) == "checkin"


def _client_from(gateway: Gateway, address: str) -> httpx.AsyncClient:
    """A client whose requests come from ``address`` (any 127.x address is this machine)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=gateway.base_url, timeout=10.0, transport=transport)


@pytest.mark.parametrize(
    ("path", "service", "address", "neighbour"),
    [
        ("/api/registry/v1/sessions", "registry", "127.0.0.11", "127.0.0.12"),
        ("/api/status/v1/assisted-lookups", "status", "127.0.0.13", "127.0.0.14"),
    ],
)
async def test_a_burst_from_one_address_is_rate_limited(
    gateway: Gateway, path: str, service: str, address: str, neighbour: str
) -> None:
    answers: list[httpx.Response] = []
    ids: list[str] = []
    async with _client_from(gateway, address) as client:
        for _ in range(BURST):
            request_id = f"burst-{uuid.uuid4().hex}"
            ids.append(request_id)
            answers.append(await client.post(path, json={}, headers={"X-Request-Id": request_id}))
    limited = [
        (answer, request_id)
        for answer, request_id in zip(answers, ids, strict=True)
        if answer.status_code == 429 and await gateway.upstream_service(request_id) is None
    ]
    first = await gateway.upstream_service(ids[0])
    assert first == service, "the first request of a burst reaches the service"
    assert limited, f"no 429 from the gateway in {[a.status_code for a in answers]}"
    answer, _ = limited[0]
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 429
    assert int(answer.headers["retry-after"]) >= 1
    _assert_security_headers(answer)
    assert (await gateway.log_entry(limited[0][1]))["client"] == address
    # The limit is per address: another client right now still gets through.
    async with _client_from(gateway, neighbour) as other:
        request_id = f"neighbour-{uuid.uuid4().hex}"
        response = await other.post(path, json={}, headers={"X-Request-Id": request_id})
    assert response.status_code != 429
    assert await gateway.upstream_service(request_id) == service


async def _status_from(base_url: str, address: str, path: str) -> int:
    """One GET on its own connection from ``address``, with nothing but asyncio (fast to open)."""
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port, local_addr=(address, 0))
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=30)
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])


async def _flood(base_url: str, address: str, path: str, count: int) -> list[int]:
    """``count`` requests from one address, FLOOD_PARALLEL at a time."""
    gate = asyncio.Semaphore(FLOOD_PARALLEL)

    async def one() -> int:
        async with gate:
            return await _status_from(base_url, address, path)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_the_general_limit_stops_a_flood_from_one_address(
    nginx: str, runtime_dir: Path, tmp_path: Path
) -> None:
    """100 req/s with a burst of 400 per address: a flood beyond that is refused with 429.

    The upstreams are closed ports, so each request that passes the limiter is answered (503) at
    once and the flood's speed is the speed of opening connections.
    """
    port = free_port()
    closed = f"127.0.0.1:{free_port()}"
    conf = render_gateway_config(runtime_dir, f"127.0.0.1:{port}", dict.fromkeys(SERVICES, closed))
    command = [nginx, "-e", "stderr", "-p", str(runtime_dir), "-c", str(conf), "-g", "daemon off;"]
    proxy = spawn("nginx", command, tmp_path / "nginx.log")
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(proxy, f"{base_url}/__gateway/healthz")
        started = time.monotonic()
        statuses = await _flood(base_url, "127.0.0.31", "/api/checkin/healthz", FLOOD)
        elapsed = time.monotonic() - started
        assert set(statuses) == {503, 429}, statuses
        # Whatever got through is the burst plus at most the rate over the time the flood took.
        assert statuses.count(503) <= EDGE_BURST + 100 * (elapsed + 1)
        # Another address is not affected by this one's flood.
        assert await _status_from(base_url, "127.0.0.32", "/api/checkin/healthz") == 503
    finally:
        stop(proxy)


class _Echo(BaseHTTPRequestHandler):
    """An upstream that answers with what it received: headers, HTTP version, the peer's port."""

    protocol_version = "HTTP/1.1"  # keeps connections open, as nginx's upstream keepalive expects

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps(
            {
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "version": self.request_version,
                "peer_port": self.client_address[1],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # The method names http.server dispatches to.
    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


async def test_client_address_request_id_and_keepalive_reach_the_upstream(
    nginx: str, runtime_dir: Path, tmp_path: Path
) -> None:
    echo = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=echo.serve_forever, daemon=True)
    thread.start()
    port = free_port()
    upstream = f"127.0.0.1:{echo.server_address[1]}"
    conf = render_gateway_config(runtime_dir, f"127.0.0.1:{port}", dict.fromkeys(SERVICES, upstream))
    command = [nginx, "-e", "stderr", "-p", str(runtime_dir), "-c", str(conf), "-g", "daemon off;"]
    proxy = spawn("nginx", command, tmp_path / "nginx.log")
    try:
        await wait_ready(proxy, f"http://127.0.0.1:{port}/__gateway/healthz")
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.21")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=10.0
        ) as client:
            seen = []
            for path in ("/api/checkin/healthz", "/c/token", "/", "/api/status/healthz", "/tracing/x", "/"):
                response = await client.get(
                    path, headers={"X-Forwarded-For": "203.0.113.9", "X-Request-Id": f"echo-{len(seen)}"}
                )
                assert response.status_code == 200, response.text
                seen.append(response.json())
        for index, received in enumerate(seen):
            headers = received["headers"]
            # The edge states the address it saw; a client's own X-Forwarded-For is not believed.
            assert headers["x-forwarded-for"] == "127.0.0.21"
            assert headers["x-real-ip"] == "127.0.0.21"
            assert headers["x-forwarded-proto"] == "http"
            assert headers["x-request-id"] == f"echo-{index}"
            assert headers["host"] == f"127.0.0.1:{port}"
            assert received["version"] == "HTTP/1.1"
            assert headers.get("connection", "").lower() != "close"
        # Upstream keepalive: each upstream (service) keeps its connection for the next request:
        # the two checkin requests share one, the two registry requests another.
        ports = [received["peer_port"] for received in seen]
        assert ports[0] == ports[1]
        assert ports[2] == ports[5]
        assert len(set(ports)) == 4  # one connection per service, no more
    finally:
        stop(proxy)
        echo.shutdown()
        echo.server_close()
        thread.join(timeout=5)


async def test_a_service_that_is_down_is_a_503_problem(nginx: str, runtime_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    conf = render_gateway_config(runtime_dir, f"127.0.0.1:{port}", dict.fromkeys(SERVICES, closed))
    command = [nginx, "-e", "stderr", "-p", str(runtime_dir), "-c", str(conf), "-g", "daemon off;"]
    proxy = spawn("nginx", command, tmp_path / "nginx.log")
    try:
        await wait_ready(proxy, f"http://127.0.0.1:{port}/__gateway/healthz")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as client:
            response = await client.get("/api/checkin/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 503
        assert int(response.headers["retry-after"]) >= 1
        assert "Traceback" not in response.text
        _assert_security_headers(response)
    finally:
        stop(proxy)

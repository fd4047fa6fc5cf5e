"""The nginx gateway for real: its config passes ``nginx -t``, and in front of the four services
(``venuecode serve``) it routes every prefix to its service, answers health and readiness, adds
the security headers, refuses oversized bodies (413) and rate-limits a burst per address (429).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from services.dev import SERVICES
from tests.integration.deploy.conftest import Gateway, nginx_check, render_gateway_config

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

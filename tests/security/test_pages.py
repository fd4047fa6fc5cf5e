"""Pages: session cookies, CSRF on cookie-authenticated changes, security headers, and no inline
script, style or secret in any template or rendered page."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from pydantic import SecretStr

from shared.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from shared.keys import private_to_pem
from shared.settings import Environment, InfraSettings
from shared.web import SECURITY_HEADERS
from tests.e2e.test_story import platform
from tests.people import born_years_ago, mainland_id

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted([*ROOT.glob("services/*/templates/**/*.html"), *ROOT.glob("shared/templates/**/*.html")])
PAGES = (
    "/",
    "/registry/register",
    "/registry/login",
    "/registry/family",
    "/registry/venue",
    "/registry/inspector",
    "/registry/operator",
    "/checkin/inspect",
    "/status/health-code",
    "/status/assisted-lookup",
    "/status/authority",
    "/tracing/console",
    "/tracing/outbreak",
    "/tracing/visits",
)
PASSWORD = "correct horse battery"


class InlineFinder(HTMLParser):
    """Collects what the Content-Security-Policy would block or what would leak: inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"inline <style> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"event handler {name}= on <{tag}> at line {self.getpos()[0]}")
            if name == "style":
                self.found.append(f"style= on <{tag}> at line {self.getpos()[0]}")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}> at line {self.getpos()[0]}")


def inline_code(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def test_the_templates_are_found() -> None:
    assert len(TEMPLATES) >= 10, TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_holds_inline_script_or_style(template: Path) -> None:
    assert inline_code(template.read_text()) == []


def _cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header by cookie name, attributes included."""
    found: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name in parsed:
            found[name] = header.lower()
    return found


async def _sign_in(client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
    number = mainland_id(born_years_ago(30))
    created = await client.post(
        "/api/registry/v1/accounts",
        json={
            "name": "頁面測",
            "id_kind": "mainland_id",
            "id_number": number,
            "phone": "13800138000",
            "password": PASSWORD,
        },
    )
    assert created.status_code == 201, created.text
    signed = await client.post("/api/registry/v1/sessions", json={"id_number": number, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return number, signed


async def test_session_cookies_are_httponly_and_samesite_and_not_secure_in_development(
    infra: InfraSettings, serve: Serve
) -> None:
    from services.registry.app import create_app
    from services.registry.config import Settings

    async with serve(create_app(Settings(infra=infra))) as client:
        _, signed = await _sign_in(client)
    cookies = _cookies(signed)
    assert "httponly" in cookies[SESSION_COOKIE]
    assert "samesite=lax" in cookies[SESSION_COOKIE]
    assert "path=/" in cookies[SESSION_COOKIE]
    # The CSRF cookie must be readable by page scripts (double submit), so it is not HttpOnly.
    assert "httponly" not in cookies[CSRF_COOKIE]
    assert "samesite=lax" in cookies[CSRF_COOKIE]
    assert "secure" not in cookies[SESSION_COOKIE]  # plain http on a developer's machine


async def test_session_cookies_are_secure_in_production(infra: InfraSettings, serve: Serve) -> None:
    from services.registry.app import create_app
    from services.registry.config import Settings

    production = infra.model_copy(
        update={
            "env": Environment.PRODUCTION,
            "jwt_private_key": SecretStr(private_to_pem(Ed25519PrivateKey.generate())),
            "token_private_key": SecretStr(private_to_pem(Ed25519PrivateKey.generate())),
            "pii_key": SecretStr("ab" * 32),
        }
    )
    async with serve(create_app(Settings(infra=production))) as client:
        _, signed = await _sign_in(client)
    cookies = _cookies(signed)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        assert "; secure" in cookies[name], cookies[name]
    assert "httponly" in cookies[SESSION_COOKIE]


async def test_cookie_authenticated_changes_need_the_csrf_header(infra: InfraSettings) -> None:
    async with platform(infra) as client:
        _, signed = await _sign_in(client)
        csrf = client.cookies[CSRF_COOKIE]
        assert client.cookies[SESSION_COOKIE]
        venue = {"region_code": "440106", "name": "跨站測試館"}
        lookup = {"name": "何伯", "id_number": mainland_id(born_years_ago(70))}
        # One state-changing endpoint an ordinary account may call, in each service that has one.
        changes = [
            ("POST", "/api/registry/v1/venues", venue),
            ("POST", "/api/status/v1/assisted-lookups", lookup),
            ("POST", "/api/checkin/v1/checkouts", {"venue_token": "A" * 150}),
        ]
        for method, path, body in changes:
            missing = await client.request(method, path, json=body)
            wrong = await client.request(method, path, json=body, headers={CSRF_HEADER: csrf[::-1]})
            assert missing.status_code == 403, (path, missing.text)
            assert "CSRF" in missing.json()["detail"]
            assert wrong.status_code == 403, (path, wrong.text)
        # With the header, the same cookie session gets through (registry creates the venue).
        created = await client.post("/api/registry/v1/venues", json=venue, headers={CSRF_HEADER: csrf})
        assert created.status_code == 201, created.text
        # Reads need no header: a GET cannot change anything.
        assert (await client.get("/api/registry/v1/venues/mine")).status_code == 200
        # The token in the JSON answer is for API clients; a bearer header needs no CSRF token.
        bearer = signed.json()["access_token"]
        client.cookies.clear()
        answer = await client.post(
            "/api/status/v1/assisted-lookups", json=lookup, headers={"Authorization": f"Bearer {bearer}"}
        )
        assert answer.status_code != 403, answer.text


async def test_pages_carry_the_security_headers_and_no_inline_code_or_secret(infra: InfraSettings) -> None:
    async with platform(infra) as client:
        await _sign_in(client)
        token = client.cookies[SESSION_COOKIE]
        for path in PAGES:
            page = await client.get(path)
            # Staff pages refuse an ordinary account; the refusal is a page with the same headers.
            assert page.status_code in (200, 403), (path, page.status_code)
            assert page.headers["content-type"].startswith("text/html")
            for name, value in SECURITY_HEADERS:
                assert page.headers.get(name.decode()) == value.decode(), (path, name)
            csp = page.headers["content-security-policy"]
            assert "script-src 'self'" in csp
            assert "unsafe-inline" not in csp
            assert "frame-ancestors 'none'" in csp
            assert inline_code(page.text) == [], path
            assert token not in page.text, f"{path} prints the session token"
            assert client.cookies[CSRF_COOKIE] not in page.text, path

"""The page-session cookies set at sign-in."""

from __future__ import annotations

from starlette.responses import Response

from services.registry.api_sessions import set_session_cookies


def cookies(secure: bool) -> dict[str, str]:
    response = Response()
    set_session_cookies(response, "the-token", 3600, secure=secure)
    found = {}
    for name, value in response.raw_headers:
        if name == b"set-cookie":
            text = value.decode()
            found[text.split("=", 1)[0]] = text.lower()
    return found


def test_session_cookie_is_http_only_lax_and_secure_in_production():
    production = cookies(secure=True)
    assert "httponly" in production["vc_session"]
    assert "samesite=lax" in production["vc_session"]
    assert "secure" in production["vc_session"]
    assert "max-age=3600" in production["vc_session"]
    assert "path=/" in production["vc_session"]
    assert "secure" in production["vc_csrf"]
    assert "httponly" not in production["vc_csrf"]
    assert "secure" not in cookies(secure=False)["vc_session"]


def test_each_sign_in_gets_a_fresh_csrf_token():
    assert cookies(secure=False)["vc_csrf"] != cookies(secure=False)["vc_csrf"]

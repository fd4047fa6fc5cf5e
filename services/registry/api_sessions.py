"""HTTP routes of sessions: sign in, refresh, sign out here or everywhere (issue 16).

A sign-in answers a short access token (the ``vc_session`` cookie for pages) and a refresh
token (``vc_refresh``: HttpOnly, SameSite=Strict, sent only to these routes), rotated on every
use by ``sessions.py``. Beside it ``vc_stay=1``, a marker without any secret, tells page
scripts that a refresh is worth trying once the access cookie has expired.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response

from services.registry.models import Credentials, RefreshIn, SessionOut, SignedOutEverywhere
from services.registry.service import SignedIn
from services.registry.services import ServicesDep
from services.registry.sessions import Issued, Sessions
from shared.auth import (
    CSRF_COOKIE,
    REFRESH_COOKIE,
    REFRESH_COOKIE_PATH,
    SESSION_COOKIE,
    STAY_COOKIE,
    CurrentPrincipal,
)
from shared.errors import Unauthorized, problem_response, problems

router = APIRouter(prefix="/api/registry/v1/sessions", tags=["registry"], responses=problems(422, 503))
BODY = (400, 413)  # a JSON body: malformed or too large


def set_session_cookies(
    response: Response,
    token: str,
    ttl_s: int,
    *,
    secure: bool,
    csrf: str | None = None,
    csrf_max_age: int | None = None,
) -> None:
    """The page session: the token HttpOnly, and a readable CSRF token for the double submit.

    With a refresh token the CSRF token lives as long as it (``csrf_max_age``): a refreshed page
    must still post. A refresh keeps the value the page holds, so requests already in flight
    from other tabs still match it.
    """
    response.set_cookie(
        SESSION_COOKIE, token, max_age=ttl_s, path="/", httponly=True, samesite="lax", secure=secure
    )
    # Page scripts read this cookie and echo it in X-CSRF-Token.
    response.set_cookie(
        CSRF_COOKIE,
        csrf or secrets.token_urlsafe(32),
        max_age=csrf_max_age or ttl_s,
        path="/",
        samesite="lax",
        secure=secure,
    )


def set_refresh_cookies(response: Response, issued: Issued, max_age: int, *, secure: bool) -> None:
    """The refresh token where only the session routes see it, and the marker pages read."""
    response.set_cookie(
        REFRESH_COOKIE,
        issued.refresh_token,
        max_age=max_age,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    response.set_cookie(STAY_COOKIE, "1", max_age=max_age, path="/", samesite="lax", secure=secure)


def clear_session_cookies(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="lax", secure=secure)
    response.delete_cookie(
        REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, httponly=True, samesite="strict", secure=secure
    )
    response.delete_cookie(STAY_COOKIE, path="/", samesite="lax", secure=secure)


def _answer(
    response: Response,
    signed: SignedIn,
    issued: Issued,
    sessions: Sessions,
    *,
    secure: bool,
    csrf: str | None,
) -> SessionOut:
    max_age = int(sessions.lifetime.total_seconds())
    set_session_cookies(
        response, signed.access_token, signed.expires_in, secure=secure, csrf=csrf, csrf_max_age=max_age
    )
    set_refresh_cookies(response, issued, max_age, secure=secure)
    return SessionOut(
        access_token=signed.access_token,
        expires_in=signed.expires_in,
        person_id=signed.person_id,
        roles=signed.roles,
        refresh_token=issued.refresh_token,
        refresh_expires_in=issued.expires_in(sessions.now()),
    )


def _refresh_token(request: Request, body: RefreshIn | None) -> str:
    """The token from the body (API clients), else from the cookie (pages)."""
    if body is not None and body.refresh_token:
        return body.refresh_token
    return request.cookies.get(REFRESH_COOKIE, "")


@router.post("", response_model=SessionOut, responses=problems(*BODY, 401, 429))
async def sign_in(body: Credentials, response: Response, services: ServicesDep) -> SessionOut:
    """An access token (short) and a refresh token (30 days, rotated on every use)."""
    signed = await services.people.sign_in(body.id_number, body.password)
    issued = await services.sessions.start(signed.person_id)
    return _answer(response, signed, issued, services.sessions, secure=services.secure_cookies, csrf=None)


@router.post("/refresh", response_model=SessionOut, responses=problems(*BODY, 401))
async def refresh(
    request: Request, response: Response, services: ServicesDep, body: RefreshIn | None = None
) -> SessionOut | Response:
    """Trade a refresh token for a new access token and the next refresh token of its family.

    The token used is spent: presenting it again revokes its family on every device. No CSRF
    header is needed: the refresh cookie is SameSite=Strict, so no other site's page can send it.
    """
    try:
        issued = await services.sessions.rotate(_refresh_token(request, body))
    except Unauthorized as refused:
        answer = problem_response(refused)
        clear_session_cookies(answer, secure=services.secure_cookies)
        return answer
    signed = await services.people.access_for(issued.person_id)
    csrf = request.cookies.get(CSRF_COOKIE)
    return _answer(response, signed, issued, services.sessions, secure=services.secure_cookies, csrf=csrf)


@router.post("/logout", status_code=204, responses=problems(*BODY))
async def sign_out(request: Request, services: ServicesDep, body: RefreshIn | None = None) -> Response:
    """Sign this device out: its refresh token's family is revoked and the cookies cleared."""
    await services.sessions.end(_refresh_token(request, body))
    response = Response(status_code=204)
    clear_session_cookies(response, secure=services.secure_cookies)
    return response


@router.post("/logout-everywhere", response_model=SignedOutEverywhere, responses=problems(401))
async def sign_out_everywhere(caller: CurrentPrincipal, services: ServicesDep) -> Response:
    """Sign out every device: every refresh token of the caller is revoked (access tokens
    already handed out end with their short lifetime)."""
    count = await services.sessions.end_everywhere(caller.person_id)
    answer = SignedOutEverywhere(revoked_sessions=count)
    response = Response(answer.model_dump_json(), media_type="application/json")
    clear_session_cookies(response, secure=services.secure_cookies)
    return response

"""Access tokens (EdDSA JWTs) and the FastAPI dependencies that read them.

The token's ``sub`` is the caller's person_id and ``roles`` lists staff roles.
The algorithm is pinned to EdDSA, ``exp`` and ``aud`` are required. Pages may
carry the token in the HttpOnly ``vc_session`` cookie; a state-changing request
authenticated by that cookie must also send the ``X-CSRF-Token`` header equal
to the ``vc_csrf`` cookie (double submit), since a browser attaches cookies to
cross-site requests but cannot be made to set a header.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import jwt
from fastapi import Depends, Request

from shared.errors import Forbidden, Unauthorized
from shared.events import StaffRole
from shared.keys import SigningKeys, key_id

SESSION_COOKIE = "vc_session"
CSRF_COOKIE = "vc_csrf"
# The refresh token (issue 16): HttpOnly, SameSite=Strict, sent only to the registry's session
# routes. Beside it a readable marker without any secret tells page scripts that a refresh is
# worth trying when the access cookie has expired.
REFRESH_COOKIE = "vc_refresh"
REFRESH_COOKIE_PATH = "/api/registry/v1/sessions"
STAY_COOKIE = "vc_stay"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Verified access tokens a process remembers (see ``AccessTokens.verify``): a few hundred staff
# and the phones of a busy minute, each entry a token's text and its principal (~1 KB).
VERIFIED_TOKENS = 4096


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person, with any staff roles."""

    person_id: UUID
    roles: frozenset[str]

    def has(self, role: StaffRole) -> bool:
        return role in self.roles


class AccessTokens:
    """Issues and verifies access tokens with the JWT signing keys."""

    def __init__(self, keys: SigningKeys, audience: str, ttl_s: int) -> None:
        self._keys = keys
        self._audience = audience
        self.ttl_s = ttl_s
        # token -> (its principal, its key id, its exp): a token's claims and signature never
        # change, so a token verified once is valid until its exp as long as its key still
        # verifies (``verifier`` ends a retired key's overlap); the Ed25519 check and the JWT
        # parsing were ~12 % of a depth-1 contact query's API CPU, paid again on every request.
        self._verified: dict[str, tuple[Principal, bytes, float]] = {}

    def issue(self, person_id: UUID, roles: Sequence[str], now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "sub": str(person_id),
            "roles": sorted(roles),
            "aud": self._audience,
            "iat": issued,
            "exp": issued + self.ttl_s,
        }
        return jwt.encode(
            claims, self._keys.private, algorithm="EdDSA", headers={"kid": self._keys.kid.hex()}
        )

    def verify(self, token: str) -> Principal:
        now = time.time()
        known = self._verified.get(token)
        if known is not None:
            principal, kid, expires = known
            # PyJWT's test: a token has expired once now >= exp (no leeway).
            if now < expires and self._keys.verifier(kid, now) is not None:
                return principal
            del self._verified[token]
        try:
            header = jwt.get_unverified_header(token)
            kid = bytes.fromhex(str(header.get("kid", "")))
            key = self._keys.verifier(kid, now)
            if key is None:
                raise Unauthorized("The access token was signed by an unknown key.")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                audience=self._audience,
                options={"require": ["exp", "sub", "aud"]},
            )
            principal = Principal(UUID(claims["sub"]), frozenset(claims.get("roles", [])))
            expires = float(claims["exp"])
            if now >= expires:  # PyJWT read its own clock; the memory above reads ``now``
                raise jwt.ExpiredSignatureError
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            raise Unauthorized("The access token is missing, expired or invalid.") from exc
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()  # simplest bound: the next requests verify again
        self._verified[token] = (principal, kid, expires)
        return principal


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _check_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie, header):
        raise Forbidden("This form needs its CSRF token; reload the page and try again.")


def authenticate(request: Request) -> Principal | None:
    """The caller from the bearer header, else from the session cookie (with CSRF)."""
    tokens: AccessTokens = request.app.state.access_tokens
    token = _bearer(request)
    if token is not None:
        return tokens.verify(token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = tokens.verify(cookie)
        _check_csrf(request)
        return principal
    return None


# The dependencies are ``async def`` although they never await: FastAPI runs a plain ``def``
# dependency in a worker thread, two thread hops on every request for microseconds of work.
async def current_principal(request: Request) -> Principal:
    principal = authenticate(request)
    if principal is None:
        raise Unauthorized("Sign in first: this needs an access token.")
    return principal


async def optional_principal(request: Request) -> Principal | None:
    return authenticate(request)


def require_role(role: StaffRole) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only callers holding ``role`` through."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has(role):
            raise Forbidden(f"This needs the {role} role.")
        return principal

    return check


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]

__all__ = [
    "CSRF_COOKIE",
    "REFRESH_COOKIE",
    "REFRESH_COOKIE_PATH",
    "SESSION_COOKIE",
    "STAY_COOKIE",
    "AccessTokens",
    "CurrentPrincipal",
    "OptionalPrincipal",
    "Principal",
    "key_id",
    "require_role",
]

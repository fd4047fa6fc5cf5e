"""Long sign-ins: refresh tokens, rotated on every use, revoked by family (issue 16).

A sign-in starts a *family* holding one live refresh token. Each refresh marks that token
rotated and issues the next one of the family, valid ``lifetime`` from then (so a phone used
at least once a month stays signed in). A rotated token presented again means two holders:
the family is revoked, the legitimate phone included, and both must sign in again (RFC 9700,
section 4.14.2). Signing out revokes the family of this device; signing out everywhere
revokes every family of the person.

No SQL here: the store does that (``store_sessions.py``), unit tests use a dict-backed fake.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol
from uuid import UUID

from services.registry.errors import RefreshTokenRefused, RefreshTokenReused
from services.registry.models import REFRESH_TOKEN_MAX_CHARS, RefreshTokenRow
from shared.ids import uuid7

RevokeReason = Literal["logout", "logout_everywhere", "reuse"]
# 256 random bits, URL-safe: 43 characters.
TOKEN_BYTES = 32
TOKEN_MAX_CHARS = REFRESH_TOKEN_MAX_CHARS  # what a request may carry; longer is refused unread
# Rows of expired tokens and of revoked families stay this long (an audit of recent sign-ins).
KEEP_AFTER_END = timedelta(days=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


def digest(token: str) -> bytes:
    """What the store keeps and looks up: SHA-256 of the token (256 random bits need no salt)."""
    return hashlib.sha256(token.encode()).digest()


class SessionRows(Protocol):
    """``store.sessions``, and ``unit.sessions`` inside one transaction."""

    async def token(self, token_digest: bytes) -> RefreshTokenRow | None:
        """The token and its family; inside a unit both stay locked until it ends."""

    async def add_family(self, family_id: UUID, person_id: UUID, created_at: datetime) -> None: ...

    async def add_token(
        self, family_id: UUID, token_digest: bytes, issued_at: datetime, expires_at: datetime
    ) -> None: ...

    async def mark_rotated(self, token_digest: bytes, at: datetime) -> None: ...

    async def revoke_family(self, family_id: UUID, at: datetime, reason: RevokeReason) -> None: ...

    async def revoke_person(self, person_id: UUID, at: datetime, reason: RevokeReason) -> int:
        """Revoke every live family of a person; how many were live."""

    async def forget_ended(self, before: datetime) -> int:
        """Delete tokens that expired and families revoked before ``before``; rows deleted."""


class SessionUnit(Protocol):
    @property
    def sessions(self) -> SessionRows: ...


class SessionStore(Protocol):
    @property
    def sessions(self) -> SessionRows: ...

    def unit(self) -> AbstractAsyncContextManager[SessionUnit]: ...


@dataclass(frozen=True)
class Issued:
    """A refresh token handed out: shown once, never stored in the clear."""

    person_id: UUID
    family_id: UUID
    refresh_token: str
    expires_at: datetime

    def expires_in(self, now: datetime) -> int:
        return max(0, int((self.expires_at - now).total_seconds()))


class Sessions:
    def __init__(
        self, store: SessionStore, lifetime: timedelta, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._store = store
        self.lifetime = lifetime
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    async def start(self, person_id: UUID) -> Issued:
        """A new family for a sign-in with a password."""
        now, token, family_id = self._clock(), secrets.token_urlsafe(TOKEN_BYTES), uuid7()
        expires_at = now + self.lifetime
        async with self._store.unit() as unit:
            await unit.sessions.add_family(family_id, person_id, now)
            await unit.sessions.add_token(family_id, digest(token), now, expires_at)
        return Issued(person_id, family_id, token, expires_at)

    async def rotate(self, token: str) -> Issued:
        """The next token of this token's family; 401 when it cannot be used.

        A reuse is decided and the family revoked in the unit, and raised only after the unit has
        committed: an error inside the unit would roll the revocation back.
        """
        if not token or len(token) > TOKEN_MAX_CHARS:
            raise RefreshTokenRefused()
        now = self._clock()
        fresh = secrets.token_urlsafe(TOKEN_BYTES)
        outcome: Literal["rotated", "refused", "reused"]
        async with self._store.unit() as unit:
            row = await unit.sessions.token(digest(token))
            if row is None or row.family_revoked_at is not None:
                outcome = "refused"
            elif row.rotated_at is not None:
                await unit.sessions.revoke_family(row.family_id, now, "reuse")
                outcome = "reused"
            elif row.expires_at <= now:
                outcome = "refused"
            else:
                await unit.sessions.mark_rotated(row.token_digest, now)
                await unit.sessions.add_token(row.family_id, digest(fresh), now, now + self.lifetime)
                outcome = "rotated"
        if outcome == "reused":
            raise RefreshTokenReused()
        if outcome == "refused" or row is None:
            raise RefreshTokenRefused()
        return Issued(row.person_id, row.family_id, fresh, now + self.lifetime)

    async def end(self, token: str) -> UUID | None:
        """Sign this device out: revoke the token's family. The person, or None if unknown."""
        if not token or len(token) > TOKEN_MAX_CHARS:
            return None
        async with self._store.unit() as unit:
            row = await unit.sessions.token(digest(token))
            if row is None:
                return None
            if row.family_revoked_at is None:
                await unit.sessions.revoke_family(row.family_id, self._clock(), "logout")
            return row.person_id

    async def end_everywhere(self, person_id: UUID) -> int:
        """Sign out every device of the person; how many sign-ins were still live."""
        return await self._store.sessions.revoke_person(person_id, self._clock(), "logout_everywhere")

    async def forget_ended(self) -> int:
        """The periodic prune: rows of sign-ins over for a day go."""
        return await self._store.sessions.forget_ended(self._clock() - KEEP_AFTER_END)

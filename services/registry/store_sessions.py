"""The SQL of refresh tokens and their families (``sessions.py`` holds the rules)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from uuid import UUID

import asyncpg

from services.registry.models import RefreshTokenRow
from services.registry.sessions import RevokeReason

_ROW_BY_DIGEST = """
SELECT t.token_digest, t.family_id, f.person_id, t.issued_at, t.expires_at, t.rotated_at,
       f.revoked_at AS family_revoked_at
FROM registry.refresh_tokens t JOIN registry.session_families f ON f.family_id = t.family_id
WHERE t.token_digest = $1
FOR UPDATE OF f, t
"""


class SessionUnit:
    """One transaction: the token read locks its family, so two refreshes of it take turns."""

    def __init__(self, conn: asyncpg.pool.PoolConnectionProxy) -> None:
        self._conn = conn

    async def token(self, token_digest: bytes) -> RefreshTokenRow | None:
        row = await self._conn.fetchrow(_ROW_BY_DIGEST, token_digest)
        if row is None:
            return None
        return RefreshTokenRow(
            bytes(row["token_digest"]),
            row["family_id"],
            row["person_id"],
            row["issued_at"],
            row["expires_at"],
            row["rotated_at"],
            row["family_revoked_at"],
        )

    async def add_token(
        self, family_id: UUID, token_digest: bytes, issued_at: datetime, expires_at: datetime
    ) -> None:
        await self._conn.execute(
            "INSERT INTO registry.refresh_tokens (token_digest, family_id, issued_at, expires_at)"
            " VALUES ($1, $2, $3, $4)",
            token_digest,
            family_id,
            issued_at,
            expires_at,
        )

    async def mark_rotated(self, token_digest: bytes, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE registry.refresh_tokens SET rotated_at = $2 WHERE token_digest = $1", token_digest, at
        )

    async def revoke_family(self, family_id: UUID, at: datetime, reason: RevokeReason) -> None:
        await self._conn.execute(
            "UPDATE registry.session_families SET revoked_at = $2, revoked_reason = $3"
            " WHERE family_id = $1 AND revoked_at IS NULL",
            family_id,
            at,
            reason,
        )


class SessionStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[SessionUnit]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield SessionUnit(conn)

    async def start_family(
        self,
        family_id: UUID,
        person_id: UUID,
        token_digest: bytes,
        issued_at: datetime,
        expires_at: datetime,
    ) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO registry.session_families (family_id, person_id, created_at)"
                " VALUES ($1, $2, $3)",
                family_id,
                person_id,
                issued_at,
            )
            await SessionUnit(conn).add_token(family_id, token_digest, issued_at, expires_at)

    async def revoke_person(self, person_id: UUID, at: datetime, reason: RevokeReason) -> int:
        status = await self._pool.execute(
            "UPDATE registry.session_families SET revoked_at = $2, revoked_reason = $3"
            " WHERE person_id = $1 AND revoked_at IS NULL",
            person_id,
            at,
            reason,
        )
        return int(status.rsplit(" ", 1)[-1])

    async def forget_ended(self, before: datetime) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            families = await conn.execute(
                "DELETE FROM registry.session_families WHERE revoked_at < $1", before
            )
            tokens = await conn.execute("DELETE FROM registry.refresh_tokens WHERE expires_at < $1", before)
            # A family whose last token expired is over too.
            empty = await conn.execute(
                "DELETE FROM registry.session_families f WHERE NOT EXISTS"
                " (SELECT 1 FROM registry.refresh_tokens t WHERE t.family_id = f.family_id)"
            )
        return sum(int(s.rsplit(" ", 1)[-1]) for s in (families, tokens, empty))

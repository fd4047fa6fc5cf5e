"""The SQL of refresh tokens and their families (``sessions.py`` holds the rules)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.registry.models import RefreshTokenRow
from services.registry.store_db import Db

# Inside a unit the token and its family stay locked until the unit ends, so two refreshes of
# one token take turns: the second sees the first's rotation (a reuse).
_ROW_BY_DIGEST = """
SELECT t.token_digest, t.family_id, f.person_id, t.issued_at, t.expires_at, t.rotated_at,
       f.revoked_at AS family_revoked_at
FROM registry.refresh_tokens t JOIN registry.session_families f ON f.family_id = t.family_id
WHERE t.token_digest = $1
FOR UPDATE OF f, t
"""


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


class SessionStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def token(self, token_digest: bytes) -> RefreshTokenRow | None:
        row = await self._db.fetchrow(_ROW_BY_DIGEST, token_digest)
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

    async def add_family(self, family_id: UUID, person_id: UUID, created_at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO registry.session_families (family_id, person_id, created_at) VALUES ($1, $2, $3)",
            family_id,
            person_id,
            created_at,
        )

    async def add_token(
        self, family_id: UUID, token_digest: bytes, issued_at: datetime, expires_at: datetime
    ) -> None:
        await self._db.execute(
            "INSERT INTO registry.refresh_tokens (token_digest, family_id, issued_at, expires_at)"
            " VALUES ($1, $2, $3, $4)",
            token_digest,
            family_id,
            issued_at,
            expires_at,
        )

    async def mark_rotated(self, token_digest: bytes, at: datetime) -> None:
        await self._db.execute(
            "UPDATE registry.refresh_tokens SET rotated_at = $2 WHERE token_digest = $1", token_digest, at
        )

    async def revoke_family(self, family_id: UUID, at: datetime, reason: str) -> None:
        await self._db.execute(
            "UPDATE registry.session_families SET revoked_at = $2, revoked_reason = $3"
            " WHERE family_id = $1 AND revoked_at IS NULL",
            family_id,
            at,
            reason,
        )

    async def revoke_person(self, person_id: UUID, at: datetime, reason: str) -> int:
        """Revoke every live family of a person; how many were live."""
        return _count(
            await self._db.execute(
                "UPDATE registry.session_families SET revoked_at = $2, revoked_reason = $3"
                " WHERE person_id = $1 AND revoked_at IS NULL",
                person_id,
                at,
                reason,
            )
        )

    async def forget_ended(self, before: datetime) -> int:
        """Delete families revoked and tokens expired before ``before``, then families left
        without a token; rows deleted (a family's tokens go with it, uncounted)."""
        families = await self._db.execute(
            "DELETE FROM registry.session_families WHERE revoked_at < $1", before
        )
        tokens = await self._db.execute("DELETE FROM registry.refresh_tokens WHERE expires_at < $1", before)
        empty = await self._db.execute(
            "DELETE FROM registry.session_families f WHERE NOT EXISTS"
            " (SELECT 1 FROM registry.refresh_tokens t WHERE t.family_id = f.family_id)"
        )
        return _count(families) + _count(tokens) + _count(empty)

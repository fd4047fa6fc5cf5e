"""The SQL of ``venuecode rotate-pii-key`` (``registry.pii_rekey_progress`` and the ciphers of
``registry.people``); the walk itself is rekey.py."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from services.registry.store_db import Db
from shared.pii import KEY_ID_BYTES


class RekeyStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def resume_after(self, key_id: bytes) -> UUID | None:
        """The last person a run for this key re-sealed (None: start from the first)."""
        row = await self._db.fetchrow(
            "INSERT INTO registry.pii_rekey_progress (key_id) VALUES ($1)"
            " ON CONFLICT (key_id) DO UPDATE SET key_id = EXCLUDED.key_id"
            " RETURNING after_person, finished_at",
            key_id,
        )
        assert row is not None
        after: UUID | None = row["after_person"]
        return after

    async def lock_ciphers(self, after: UUID | None, batch: int) -> list[tuple[UUID, bytes]]:
        """The next ``batch`` people after ``after`` (their id and cipher), locked for the unit."""
        rows = await self._db.fetch(
            "SELECT person_id, id_cipher FROM registry.people"
            " WHERE $1::uuid IS NULL OR person_id > $1 ORDER BY person_id LIMIT $2 FOR UPDATE",
            after,
            batch,
        )
        return [(r["person_id"], bytes(r["id_cipher"])) for r in rows]

    async def write_ciphers(self, sealed: Sequence[tuple[UUID, bytes]]) -> None:
        await self._db.execute(
            "UPDATE registry.people p SET id_cipher = u.blob"
            " FROM unnest($1::uuid[], $2::bytea[]) AS u(person_id, blob) WHERE p.person_id = u.person_id",
            [p for p, _ in sealed],
            [b for _, b in sealed],
        )

    async def advance(self, key_id: bytes, last: UUID, resealed: int) -> None:
        await self._db.execute(
            "UPDATE registry.pii_rekey_progress SET after_person = $2, resealed = resealed + $3"
            " WHERE key_id = $1",
            key_id,
            last,
            resealed,
        )

    async def remaining(self, key_id: bytes) -> int:
        """People whose number another key (or the unversioned format) sealed."""
        count: int = await self._db.fetchval(
            "SELECT count(*) FROM registry.people"
            " WHERE get_byte(id_cipher, 0) <> 2 OR substring(id_cipher FROM 2 FOR $2) <> $1",
            key_id,
            KEY_ID_BYTES,
        )
        return count

    async def finish(self, key_id: bytes, remaining: int) -> int:
        """Mark the rotation finished when nothing remains (otherwise the next run walks again
        from the start); how many this rotation re-sealed over all its runs."""
        resealed: int = await self._db.fetchval(
            "UPDATE registry.pii_rekey_progress SET"
            " finished_at = CASE WHEN $2 = 0 THEN now() END,"
            " after_person = CASE WHEN $2 = 0 THEN after_person END"
            " WHERE key_id = $1 RETURNING resealed",
            key_id,
            remaining,
        )
        return resealed

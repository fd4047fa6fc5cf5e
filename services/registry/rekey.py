"""``venuecode rotate-pii-key``: re-encrypt every identity number under the current PII key.

Run it after every service was deployed with the new ``VENUECODE_PII_KEY``, the old key in
``VENUECODE_PII_PREVIOUS_KEYS`` and the digest key pinned in ``VENUECODE_PII_DIGEST_KEY``
(docs/operations.md): from then on the services seal new numbers with the new key and read
both, and digests do not change. The command walks ``registry.people`` in person-id order, a
batch per transaction; each batch's rows are locked, re-sealed and written with the progress
row, so a run killed at any point resumes after its last committed batch and a row written by
a service meanwhile is never overwritten with a stale value. A final count in SQL says whether
anything is left under an old key (a service still on the old configuration); only then is the
rotation marked finished and the old key safe to remove.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from shared.pii import KEY_ID_BYTES, Vault

DEFAULT_BATCH = 500


@dataclass(frozen=True)
class Rekeyed:
    resealed: int  # over every run of this rotation
    remaining: int  # rows still under another key after the walk (0 when finished)
    finished: bool


async def _progress(conn: asyncpg.Connection, key_id: bytes) -> UUID | None:
    row = await conn.fetchrow(
        "INSERT INTO registry.pii_rekey_progress (key_id) VALUES ($1)"
        " ON CONFLICT (key_id) DO UPDATE SET key_id = EXCLUDED.key_id"
        " RETURNING after_person, finished_at",
        key_id,
    )
    after: UUID | None = row["after_person"]
    return after


async def _one_batch(pool: asyncpg.Pool, vault: Vault, after: UUID | None, batch: int) -> UUID | None:
    """Re-seal one batch after ``after``; the last person id walked, or None at the end."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT person_id, id_cipher FROM registry.people"
            " WHERE $1::uuid IS NULL OR person_id > $1 ORDER BY person_id LIMIT $2 FOR UPDATE",
            after,
            batch,
        )
        if not rows:
            return None
        stale = [
            (r["person_id"], vault.reseal(r["id_cipher"]))
            for r in rows
            if not vault.is_current(r["id_cipher"])
        ]
        if stale:
            await conn.execute(
                "UPDATE registry.people p SET id_cipher = u.blob"
                " FROM unnest($1::uuid[], $2::bytea[]) AS u(person_id, blob) WHERE p.person_id = u.person_id",
                [p for p, _ in stale],
                [b for _, b in stale],
            )
        last: UUID = rows[-1]["person_id"]
        await conn.execute(
            "UPDATE registry.pii_rekey_progress SET after_person = $2, resealed = resealed + $3"
            " WHERE key_id = $1",
            vault.key_id,
            last,
            len(stale),
        )
        return last


async def _remaining(conn: asyncpg.Connection, key_id: bytes) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM registry.people"
        " WHERE get_byte(id_cipher, 0) <> 2 OR substring(id_cipher FROM 2 FOR $2) <> $1",
        key_id,
        KEY_ID_BYTES,
    )
    return count


async def rotate(
    pool: asyncpg.Pool,
    vault: Vault,
    *,
    batch: int = DEFAULT_BATCH,
    pause_s: float = 0.0,
    on_batch: Callable[[int], None] | None = None,
) -> Rekeyed:
    """Walk every person once (resuming a killed run) and re-seal what an old key sealed."""
    async with pool.acquire() as conn:
        after = await _progress(conn, vault.key_id)
    walked = 0
    while (last := await _one_batch(pool, vault, after, batch)) is not None:
        after, walked = last, walked + 1
        if on_batch is not None:
            on_batch(walked)
        if pause_s:
            await asyncio.sleep(pause_s)  # a throttle: the services share the database
    async with pool.acquire() as conn, conn.transaction():
        remaining = await _remaining(conn, vault.key_id)
        # Finished only when nothing is left; otherwise the next run walks again from the start.
        resealed: int = await conn.fetchval(
            "UPDATE registry.pii_rekey_progress SET"
            " finished_at = CASE WHEN $2 = 0 THEN now() END,"
            " after_person = CASE WHEN $2 = 0 THEN after_person END"
            " WHERE key_id = $1 RETURNING resealed",
            vault.key_id,
            remaining,
        )
    return Rekeyed(resealed, remaining, remaining == 0)

"""The SQL of the registry's outbox (``registry.outbox``): events stored with their change."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from services.registry.models import OutboxRow
from services.registry.store_db import Db


def _row(row: asyncpg.Record) -> OutboxRow:
    return OutboxRow(row["outbox_id"], row["topic"], bytes(row["key"]), row["payload"])


class OutboxStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, topic: str, key: bytes, payloads: Sequence[str]) -> list[int]:
        rows = await self._db.fetch(
            "INSERT INTO registry.outbox (topic, key, payload)"
            " SELECT $1, $2, p FROM unnest($3::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n"
            " RETURNING outbox_id",
            topic,
            key,
            list(payloads),
        )
        return [int(r["outbox_id"]) for r in rows]

    async def mark_sent(self, outbox_ids: Sequence[int]) -> None:
        await self._db.execute(
            "UPDATE registry.outbox SET sent_at = now()"
            " WHERE outbox_id = ANY($1::bigint[]) AND sent_at IS NULL",
            list(outbox_ids),
        )

    async def claim_unsent(self, min_age_s: float, limit: int) -> list[OutboxRow]:
        """Unsent rows older than ``min_age_s``, locked for this unit (other relays skip them)."""
        rows = await self._db.fetch(
            "SELECT outbox_id, topic, key, payload FROM registry.outbox"
            " WHERE sent_at IS NULL AND created_at < now() - make_interval(secs => $1)"
            " ORDER BY outbox_id LIMIT $2 FOR UPDATE SKIP LOCKED",
            min_age_s,
            limit,
        )
        return [_row(r) for r in rows]

    async def unsent_before(self, topic: str, key: bytes, before_id: int) -> list[OutboxRow]:
        """Unsent rows of one topic and key written before ``before_id``, oldest first."""
        rows = await self._db.fetch(
            "SELECT outbox_id, topic, key, payload FROM registry.outbox"
            " WHERE sent_at IS NULL AND topic = $1 AND key = $2 AND outbox_id < $3 ORDER BY outbox_id",
            topic,
            key,
            before_id,
        )
        return [_row(r) for r in rows]

    async def prune(self, older_than_s: float) -> int:
        """Delete rows sent more than ``older_than_s`` ago; how many went."""
        status: str = await self._db.execute(
            "DELETE FROM registry.outbox"
            " WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(secs => $1)",
            older_than_s,
        )
        return int(status.rsplit(" ", 1)[-1])

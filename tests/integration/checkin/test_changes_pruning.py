"""checkin.changes: the pruning job drops what every live process has read, and nothing newer."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from services.checkin.app import MIGRATIONS
from services.checkin.memory import KEEP, pruning_job
from services.checkin.store import SCHEMA, Store
from shared.db import migrate


async def test_the_pruning_round_drops_changes_older_than_keep_only(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        await migrate(pool, SCHEMA, MIGRATIONS)
        old, recent = uuid.uuid4(), uuid.uuid4()
        await pool.execute(
            "INSERT INTO checkin.changes (kind, id, at) VALUES"
            " ('venue', $1, now() - $3::interval), ('family', $2, now() - $4::interval)",
            old,
            recent,
            KEEP + timedelta(minutes=1),
            KEEP - timedelta(minutes=1),
        )
        job = pruning_job(Store(pool))
        assert job.name == "checkin.changes"
        assert job.interval_s == KEEP.total_seconds() / 4
        assert await job.work() == 1
        assert [r["id"] for r in await pool.fetch("SELECT id FROM checkin.changes")] == [recent]
        assert await job.work() == 0
    finally:
        await pool.close()

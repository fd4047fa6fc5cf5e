"""shared.db.migrate: replicas that start together apply each migration exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from shared.db import migrate, migration_files

REPLICAS = 5


def _write_migrations(folder: Path) -> None:
    folder.mkdir()
    # The sleep holds the first runner inside the migration while the others arrive;
    # the INSERT would count every extra application.
    (folder / "0001_init.sql").write_text(
        "CREATE TABLE race.applied (n integer NOT NULL);\n"
        "SELECT pg_sleep(0.3);\n"
        "INSERT INTO race.applied VALUES (1);\n"
    )
    (folder / "0002_more.sql").write_text(
        "ALTER TABLE race.applied ADD COLUMN note text;\nINSERT INTO race.applied VALUES (2, 'second');\n"
    )


async def test_concurrent_migrate_applies_each_migration_once(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    _write_migrations(folder)
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=1) for _ in range(REPLICAS)]
    try:
        results = await asyncio.gather(*(migrate(pool, "race", folder) for pool in pools))
        applied = sorted(n for result in results for n in result)
        assert applied == [1, 2]
        assert sum(1 for result in results if result) == 1  # one replica did the work, four found none left
        async with pools[0].acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM race.applied") == 2
            versions = await conn.fetch("SELECT version, name FROM race.schema_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in versions] == [(1, "0001_init.sql"), (2, "0002_more.sql")]
        # A later start finds nothing to do; a new file is applied alone.
        assert await migrate(pools[1], "race", folder) == []
        (folder / "0003_third.sql").write_text("INSERT INTO race.applied VALUES (3, 'third');\n")
        again = await asyncio.gather(*(migrate(pool, "race", folder) for pool in pools))
        assert sorted(n for result in again for n in result) == [3]
    finally:
        await asyncio.gather(*(pool.close() for pool in pools))


async def test_a_failing_migration_rolls_back_and_stops(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_ok.sql").write_text("CREATE TABLE broken.t (n integer);\n")
    (folder / "0002_bad.sql").write_text("INSERT INTO broken.t VALUES (1);\nSELECT * FROM broken.nowhere;\n")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(pool, "broken", folder)
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM broken.t") == 0
            assert await conn.fetchval("SELECT max(version) FROM broken.schema_migrations") == 1
    finally:
        await pool.close()


def test_migration_file_names_are_checked(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0002_b.sql").write_text("")
    assert [n for n, _ in migration_files(tmp_path)] == [1, 2]
    (tmp_path / "0002_c.sql").write_text("")
    with pytest.raises(ValueError, match="two migrations"):
        migration_files(tmp_path)
    (tmp_path / "0002_c.sql").unlink()
    (tmp_path / "3_bad.sql").write_text("")
    with pytest.raises(ValueError, match="NNNN_name"):
        migration_files(tmp_path)


def test_every_service_migration_folder_is_well_formed() -> None:
    root = Path(__file__).parents[2] / "services"
    for folder in root.glob("*/migrations"):
        assert migration_files(folder), folder

"""Postgres plumbing: the asyncpg pool, the migration runner and idempotent event handling."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from shared.settings import PostgresSettings

log = logging.getLogger("venuecode.db")
_MIGRATION = re.compile(r"(\d{4})_[\w-]+\.sql")
# A connection as stores hold it: their own, or one borrowed from the pool (``pool.acquire()``).
Conn = asyncpg.Connection | PoolConnectionProxy
U = TypeVar("U")


def with_database(url: str, database: str) -> str:
    """The same server URL, naming another database (tests and benchmarks make their own)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


async def create_pool(
    settings: PostgresSettings,
    *,
    reset_sessions: bool = True,
    server_settings: Mapping[str, str] | None = None,
) -> asyncpg.Pool:
    """The pool; ``reset_sessions=False`` skips asyncpg's reset query on every release.

    That query (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) is a second round trip
    per borrowed connection. A service whose connections never change session state
    (no SET, LISTEN, cursors or session locks left behind) may skip it; an open
    transaction is still rolled back on release either way. ``server_settings`` are session
    settings every connection starts with.
    """
    pool = await asyncpg.create_pool(
        settings.url,
        min_size=settings.min_size,
        max_size=settings.max_size,
        command_timeout=settings.command_timeout_s,
        reset=None if reset_sessions else _keep_session,
        server_settings=dict(server_settings or {}),
    )
    assert pool is not None
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to undo: asyncpg has already rolled back any open transaction."""


def migration_files(directory: Path) -> list[tuple[int, Path]]:
    """The numbered ``NNNN_name.sql`` files of a directory, in order; numbers must not repeat."""
    found: dict[int, Path] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION.fullmatch(path.name)
        if match is None:
            raise ValueError(f"migration file name must be NNNN_name.sql: {path.name}")
        number = int(match.group(1))
        if number in found:
            raise ValueError(f"two migrations numbered {number}: {found[number].name}, {path.name}")
        found[number] = path
    return sorted(found.items())


def _check_schema(schema: str) -> None:
    # Schema names are interpolated into SQL, so only plain identifiers pass.
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise ValueError(f"not a schema name: {schema!r}")


async def migrate(pool: asyncpg.Pool, schema: str, directory: Path) -> list[int]:
    """Apply the missing migrations of one schema; returns the numbers applied.

    Runs under a session advisory lock named for the schema, so replicas that
    start together apply each migration exactly once: the second waits, then
    finds nothing left to do. Each migration commits in its own transaction.
    """
    _check_schema(schema)
    applied: list[int] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"venuecode.migrate.{schema}")
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {schema}.schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {
                row["version"]
                for row in await conn.fetch(f"SELECT version FROM {schema}.schema_migrations")  # noqa: S608
            }
            for number, path in migration_files(directory):
                if number in done:
                    continue
                async with conn.transaction():
                    await conn.execute(path.read_text())
                    await conn.execute(
                        f"INSERT INTO {schema}.schema_migrations (version, name) VALUES ($1, $2)",  # noqa: S608
                        number,
                        path.name,
                    )
                applied.append(number)
                log.info("migration applied", extra={"schema": schema, "migration": path.name})
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", f"venuecode.migrate.{schema}")
    return applied


@asynccontextmanager
async def transaction(pool: asyncpg.Pool, unit: Callable[[Conn], U]) -> AsyncIterator[U]:
    """A store's unit of work: ``unit`` built on a connection of the pool inside one transaction,
    committed when the block ends and rolled back when it raises (``async with store.unit()``)."""
    async with pool.acquire() as conn, conn.transaction():
        yield unit(conn)


async def claim_event(conn: Conn, schema: str, event_id: UUID) -> bool:
    """Record that this event was handled, inside the caller's transaction.

    False means it was handled before: the handler skips it. Each schema has
    a ``processed_events`` table (see its first migration).
    """
    _check_schema(schema)
    row = await conn.fetchval(
        f"INSERT INTO {schema}.processed_events (event_id) VALUES ($1)"  # noqa: S608
        " ON CONFLICT DO NOTHING RETURNING true",
        event_id,
    )
    return bool(row)


async def ping(pool: asyncpg.Pool) -> None:
    async with pool.acquire(timeout=2) as conn:
        await conn.fetchval("SELECT 1", timeout=2)

"""The tests' databases: made from a migrated template, and dropped in the background.

Every service migrates its schema when it starts; on a fresh database that is 1-2 s for the
four (measured here, load 8-11) in every test that starts them. ``make_template`` migrates one
database per session with every service's migrations, and each test's database is a copy of
it (``CREATE DATABASE ... TEMPLATE``): the services then find their migrations applied. The
migrations still run from an empty database, once per run, by the same ``shared.db.migrate``.

``DROP DATABASE`` waits for a checkpoint (0.5-1.7 s each here, measured), which no test needs
to wait for: one task on the session's event loop drops the databases in order over its own
admin connection while the next tests run; at most ``BEHIND`` wait, so the disk never holds
more than a few spare databases. A drop that fails is tried once more on a new connection,
and what still fails is raised when the session ends, so a database left behind still fails
the run.
"""

from __future__ import annotations

import asyncio

import asyncpg

from shared.db import migrate, with_database

BEHIND = 4


class Dropper:
    def __init__(self, admin_url: str) -> None:
        self._admin_url = admin_url
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=BEHIND)
        self._failed: list[str] = []
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def drop(self, database: str) -> None:
        """Queue the drop; waits only while ``BEHIND`` drops are already queued."""
        if self._task.done():  # never: _run catches everything; but then drop here, in line
            await _drop_now(self._admin_url, database)
            return
        await self._queue.put(database)

    async def close(self) -> None:
        """Wait for every queued drop; raise if any failed twice."""
        await self._queue.put(None)
        await self._task
        if self._failed:
            raise RuntimeError(f"databases not dropped: {'; '.join(self._failed)}")

    async def _run(self) -> None:
        admin: asyncpg.Connection | None = None
        try:
            while (database := await self._queue.get()) is not None:
                for attempt in (1, 2):
                    try:
                        if admin is None or admin.is_closed():
                            admin = await asyncpg.connect(self._admin_url)
                        await _drop(admin, database)
                        break
                    except Exception as exc:  # reported at the session's end
                        if admin is not None:
                            admin.terminate()
                            admin = None
                        if attempt == 2:
                            self._failed.append(f"{database} ({type(exc).__name__}: {exc})")
        finally:
            if admin is not None:
                await admin.close()


async def _drop(admin: asyncpg.Connection, database: str) -> None:
    await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _drop_now(admin_url: str, database: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await _drop(admin, database)
    finally:
        await admin.close()


async def make_template(admin_url: str, name: str) -> None:
    """Create database ``name`` with every service's schema migrated, and leave nobody connected
    (``CREATE DATABASE ... TEMPLATE`` needs that)."""
    from services.checkin.app import MIGRATIONS as CHECKIN
    from services.registry.app import MIGRATIONS as REGISTRY
    from services.status.app import MIGRATIONS as STATUS
    from services.tracing.app import MIGRATIONS as TRACING
    from services.tracing.store import SESSION_SETTINGS as TRACING_SESSION

    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(admin_url, name)
    for schema, folder, settings in (
        ("checkin", CHECKIN, {}),
        ("registry", REGISTRY, {}),
        ("status", STATUS, {}),
        ("tracing", TRACING, TRACING_SESSION),  # as the service migrates it
    ):
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1, server_settings=settings)
        try:
            await migrate(pool, schema, folder)
        finally:
            await pool.close()

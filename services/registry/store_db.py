"""What every registry store class is built on: a pool or the connection of a unit of work."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext

import asyncpg

from shared.db import Conn

# A pool runs each statement on a connection of its own; a unit's connection runs them in its
# transaction. Both speak fetch/fetchrow/fetchval/execute.
Db = asyncpg.Pool | Conn


def savepoint(db: Db) -> AbstractAsyncContextManager[object]:
    """Inside a unit, a statement that may break a constraint runs in a savepoint, so the unit's
    transaction survives the violation and the caller can take the typed outcome and go on."""
    if isinstance(db, asyncpg.Pool):
        return nullcontext()
    return db.transaction()

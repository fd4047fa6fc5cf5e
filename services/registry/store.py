"""Every SQL statement of the registry, behind one ``Store(pool)``; rows come back as models.

The statements are split by topic into classes of one shape, each built on the pool (each
statement alone) or on the connection of a unit of work: ``store.people`` (store_people.py),
``store.venues`` (store_venues.py), ``store.family`` (store_family.py), ``store.outbox``
(store_outbox.py), ``store.rekey`` (store_rekey.py). A write that spans statements runs in
``async with store.unit() as unit:``, whose ``unit.people``, ``unit.venues``, ... share one
transaction. Unique-constraint violations never leave a store module: they become a typed outcome
(``None``, ``False``) or a problem from ``errors.py``. Only store modules import asyncpg.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from services.registry.store_db import Db
from services.registry.store_family import FamilyStore
from services.registry.store_outbox import OutboxStore
from services.registry.store_people import PeopleStore
from services.registry.store_rekey import RekeyStore
from services.registry.store_venues import VenueStore


class Unit:
    """Every topic on one connection: inside ``store.unit()`` one transaction, committed when the
    block ends and rolled back when it raises."""

    def __init__(self, db: Db) -> None:
        self.people = PeopleStore(db)
        self.venues = VenueStore(db)
        self.family = FamilyStore(db)
        self.outbox = OutboxStore(db)
        self.rekey = RekeyStore(db)


class Store(Unit):
    """The same topics on the pool, and ``unit()`` for what must be atomic."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self._pool = pool

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield Unit(conn)

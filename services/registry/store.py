"""Every SQL statement of the registry, behind one ``Store(pool)``; rows come back as models.

The statements are split by topic into classes of one shape, each built on the pool (each
statement alone) or on the connection of a unit of work: ``store.people`` (store_people.py),
``store.venues`` (store_venues.py), ``store.family`` (store_family.py), ``store.rekey`` (store_rekey.py),
``store.assisted`` (store_assisted.py), ``store.sessions`` (store_sessions.py),
``store.handovers`` (store_handovers.py), and ``store.outbox``, the ``registry.outbox`` table of
``shared.outbox``. A write that spans statements runs in
``async with store.unit() as unit:``, whose ``unit.people``, ``unit.venues``, ... share one
transaction. Unique-constraint violations never leave a store module: they become a typed outcome
(``None``, ``False``) or a problem from ``errors.py``. Only store modules import asyncpg.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

import asyncpg
from pydantic import BaseModel

from services.registry.store_assisted import AssistedStore
from services.registry.store_db import Db
from services.registry.store_family import FamilyStore
from services.registry.store_handovers import HandoverStore
from services.registry.store_people import PeopleStore
from services.registry.store_rekey import RekeyStore
from services.registry.store_sessions import SessionStore
from services.registry.store_venues import VenueStore
from shared import outbox
from shared.db import Conn, transaction
from shared.outbox import OutboxTable

SCHEMA = "registry"


class Topics:
    """The statements by topic, on the pool (each alone) or on a unit's connection."""

    def __init__(self, db: Db) -> None:
        self.people = PeopleStore(db)
        self.venues = VenueStore(db)
        self.family = FamilyStore(db)
        self.rekey = RekeyStore(db)
        self.assisted = AssistedStore(db)
        self.sessions = SessionStore(db)
        self.handovers = HandoverStore(db)


class Unit(Topics):
    """Every topic on one connection in one transaction, committed when the ``store.unit()``
    block ends and rolled back when it raises; ``stage`` writes events in that transaction."""

    def __init__(self, conn: Conn) -> None:
        super().__init__(conn)
        self._conn = conn

    async def stage(self, topic: str, key: bytes, events: Sequence[BaseModel]) -> outbox.Staged:
        """Put events in ``registry.outbox``, to be sent once this unit committed (``shared.outbox``)."""
        return await outbox.stage(self._conn, SCHEMA, topic, key, events)


class Store(Topics):
    """The topics on the pool, the outbox table the relay reads, and ``unit()`` for what must be
    atomic."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self._pool = pool
        self.outbox = OutboxTable(pool, SCHEMA)

    def unit(self) -> AbstractAsyncContextManager[Unit]:
        return transaction(self._pool, Unit)

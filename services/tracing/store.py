"""The tracing store: every SQL statement of the service, behind one ``Store(pool)``.

``Store`` composes one class per topic (``store.checkins``, ``store.contacts``,
``store.outbreaks``, ``store.alerts``, ``store.audit``, ``store.settings``,
``store.registry``, ``store.compliance``), each in its own module when it is long. From the store, a method
takes a connection of its own; writes that span statements go through a unit of work,
``async with store.unit() as unit:``, whose topics run on one connection in one
transaction. Only store modules import asyncpg, and every method returns typed rows.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import asyncpg

from services.tracing.models import AuditEntry, Person, Venue
from services.tracing.store_alerts import AlertStore
from services.tracing.store_base import AUDIT_INSERT, Connections, affected
from services.tracing.store_checkins import CheckinStore
from services.tracing.store_compliance import ComplianceStore
from services.tracing.store_contacts import ContactStore
from services.tracing.store_outbreaks import OutbreakStore
from shared.db import claim_event, transaction
from shared.settings import PostgresSettings

SCHEMA = "tracing"
# Every tracing statement reads the day partitions. A custom plan is made again on every
# execution across all of them (a depth-1 contact query planned in 5-19 ms and ran in 2-5 ms
# on 20 M rows, 29 partitions), and Postgres keeps choosing custom plans because a generic
# plan's estimate counts every partition. A generic plan is made once per connection and
# prunes partitions when it starts: depth-1 p50 6.8 -> 2.3 ms (``venuecode bench contacts``).
# On Citus the store reopens its sessions otherwise (``Store.open_for_citus``).
SESSION_SETTINGS = {"plan_cache_mode": "force_generic_plan"}
# Citus plans a query that reaches several shards only with its parameters' values: under
# a generic plan even ``WHERE person_id = $1`` fails ("could not create distributed plan",
# seen on Citus 13.0.5). On Citus, sessions keep Postgres's default mode instead; pruning
# then happens on each worker, per shard, with the values bound (docs/operations.md).
CITUS_SESSION_SETTINGS = {"plan_cache_mode": "auto"}


class AuditStore:
    """The audit log: who looked at whom, and who changed what."""

    def __init__(self, db: Connections) -> None:
        self._db = db

    async def write(
        self,
        actor_id: UUID,
        action: str,
        count: int,
        *,
        query_id: UUID | None = None,
        subject_id: UUID | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        async with self._db() as conn:
            await conn.execute(
                f"{AUDIT_INSERT} VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                actor_id,
                action,
                query_id,
                subject_id,
                count,
                json.dumps(detail or {}),
            )

    async def write_each(
        self,
        actor_id: UUID,
        action: str,
        subjects: Sequence[UUID],
        *,
        query_id: UUID,
        detail: dict[str, Any],
    ) -> None:
        """One audit row per person an act touched (``subject_id``), in one COPY."""
        text = json.dumps(detail)
        async with self._db() as conn:
            await conn.copy_records_to_table(
                "audit_log",
                schema_name="tracing",
                columns=("actor_id", "action", "query_id", "subject_id", "count", "detail"),
                records=[(actor_id, action, query_id, s, 1, text) for s in subjects],
            )

    async def entries(self, from_at: datetime, to_at: datetime) -> list[AuditEntry]:
        async with self._db() as conn:
            rows = await conn.fetch(
                "SELECT actor_id, action, query_id, subject_id, count, at, detail FROM tracing.audit_log"
                " WHERE at >= $1 AND at <= $2 ORDER BY at, audit_id LIMIT 10000",
                from_at,
                to_at,
            )
        return [
            AuditEntry(**{**dict(row), "detail": json.loads(row["detail"])})  # jsonb arrives as text
            for row in rows
        ]

    async def delete_before(self, cutoff: datetime) -> int:
        async with self._db() as conn:
            return affected(await conn.execute("DELETE FROM tracing.audit_log WHERE at < $1", cutoff))


class SettingStore:
    """The operators' switches (JSON values by key)."""

    def __init__(self, db: Connections) -> None:
        self._db = db

    async def read(self, key: str) -> dict[str, Any] | None:
        async with self._db() as conn:
            raw = await conn.fetchval("SELECT value FROM tracing.settings WHERE key = $1", key)
        return None if raw is None else dict(json.loads(raw))

    async def write(self, key: str, value: dict[str, Any], actor: UUID) -> None:
        async with self._db() as conn:
            await conn.execute(
                "INSERT INTO tracing.settings (key, value, updated_by) VALUES ($1, $2::jsonb, $3)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,"
                " updated_at = now()",
                key,
                json.dumps(value),
                actor,
            )


class RegistryStore:
    """The read models of registry's venues and people, and the events already applied to them."""

    def __init__(self, db: Connections) -> None:
        self._db = db

    async def claim(self, event_id: UUID) -> bool:
        """Note the event as handled (in a unit of work); False when it was handled before."""
        async with self._db() as conn:
            # shared.db types its connection as asyncpg's Connection; a pool's is its proxy,
            # which behaves the same (asyncpg-stubs keep the two apart).
            return await claim_event(cast(asyncpg.Connection, conn), SCHEMA, event_id)

    async def put_venue(self, venue: Venue, registered_at: datetime | None = None) -> None:
        async with self._db() as conn:
            await conn.execute(
                # updated_at from excluded, not now(): Citus refuses a non-immutable function in the
                # DO UPDATE of a reference table (0005), and VALUES evaluates now() once anyway.
                # A reissue may be applied first: the poster version only grows.
                "INSERT INTO tracing.venues (venue_id, region_code, name, category, typical_stay_minutes,"
                " address, poster_version, registered_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) ON CONFLICT (venue_id) DO UPDATE SET"
                " region_code = excluded.region_code, name = excluded.name, category = excluded.category,"
                " typical_stay_minutes = excluded.typical_stay_minutes, address = excluded.address,"
                " poster_version = GREATEST(tracing.venues.poster_version, excluded.poster_version),"
                " registered_at = excluded.registered_at, updated_at = excluded.updated_at",
                venue.venue_id,
                venue.region_code,
                venue.name,
                venue.category,
                venue.typical_stay_minutes,
                venue.address,
                venue.poster_version,
                registered_at,
            )

    async def rename_venue(self, venue_id: UUID, name: str) -> None:
        async with self._db() as conn:
            await conn.execute(
                "UPDATE tracing.venues SET name = $2, updated_at = now() WHERE venue_id = $1", venue_id, name
            )

    async def put_person(self, person: Person, id_digest: str) -> None:
        async with self._db() as conn:
            await conn.execute(
                "INSERT INTO tracing.persons (person_id, id_kind, id_digest, masked_name, masked_id,"
                " updated_at) VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (person_id) DO UPDATE SET"
                " id_kind = excluded.id_kind, id_digest = excluded.id_digest,"
                " masked_name = excluded.masked_name, masked_id = excluded.masked_id,"
                " updated_at = excluded.updated_at",
                person.person_id,
                person.id_kind,
                id_digest,
                person.masked_name,
                person.masked_id,
            )

    async def person_by_digest(self, id_digest: str) -> Person | None:
        async with self._db() as conn:
            row = await conn.fetchrow(
                "SELECT person_id, id_kind, masked_name, masked_id FROM tracing.persons WHERE id_digest = $1",
                id_digest,
            )
        return None if row is None else Person(**dict(row))


class Topics:
    """Every topic's statements, run where ``db`` says."""

    def __init__(self, db: Connections) -> None:
        self.checkins = CheckinStore(db)
        self.contacts = ContactStore(db)
        self.outbreaks = OutbreakStore(db)
        self.alerts = AlertStore(db)
        self.audit = AuditStore(db)
        self.settings = SettingStore(db)
        self.registry = RegistryStore(db)
        self.compliance = ComplianceStore(db)


class Unit(Topics):
    """A unit of work: every topic, on one connection, inside one transaction."""


class Store(Topics):
    """The service's store: each method on a connection of its own; ``unit()`` for one transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(Connections(pool))
        self._pool = pool

    def unit(self) -> AbstractAsyncContextManager[Unit]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        return transaction(self._pool, lambda conn: Unit(Connections(held=conn)))

    @asynccontextmanager
    async def event(self, event_id: UUID) -> AsyncIterator[Unit | None]:
        """The unit of work of one consumed event; None when the event was handled before."""
        async with self.unit() as unit:
            yield unit if await unit.registry.claim(event_id) else None

    async def open_for_citus(self, postgres: PostgresSettings) -> bool:
        """Distribute the check-ins where Citus is installed and, there, reopen the pool's sessions
        with ``CITUS_SESSION_SETTINGS``; False (nothing changed) without Citus."""
        if await self.checkins.distribute_on_citus() != "distributed":
            return False
        self._pool.set_connect_args(
            postgres.url, command_timeout=postgres.command_timeout_s, server_settings=CITUS_SESSION_SETTINGS
        )
        await self._pool.expire_connections()
        return True

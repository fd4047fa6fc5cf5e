"""Every SQL statement of the checkin service: its read models and the reads a scan needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from services.checkin.models import PersonView, Venue, VenueStaff
from shared.db import Conn, claim_event

SCHEMA = "checkin"

_VENUE_STAFF = """
SELECT v.administrator_id = $2 OR EXISTS (
           SELECT 1 FROM checkin.inspector_bindings b WHERE b.venue_id = $1 AND b.person_id = $2
       ) AS is_staff
FROM checkin.venues v WHERE v.venue_id = $1
"""

_PEOPLE_OF = """
SELECT $1::uuid AS person_id, p.masked_name, p.masked_id, NULL::text AS relation, 0 AS position
FROM (SELECT 1) AS one LEFT JOIN checkin.persons p ON p.person_id = $1
UNION ALL
SELECT g.person_id, p.masked_name, p.masked_id, g.relation, 1
FROM checkin.guardianships g LEFT JOIN checkin.persons p ON p.person_id = g.person_id
WHERE g.guardian_id = $1
ORDER BY position, masked_name
"""


_VENUE_COLUMNS = "SELECT venue_id, name, poster_version, administrator_id FROM checkin.venues"
_SOME_VENUES = _VENUE_COLUMNS + " LIMIT $1"
_THESE_VENUES = _VENUE_COLUMNS + " WHERE venue_id = ANY($1::uuid[])"
_PEOPLE_COLUMNS = (
    "SELECT p.person_id, p.masked_name, p.masked_id, s.serial FROM checkin.persons p"
    " LEFT JOIN checkin.paper_serials s ON s.person_id = p.person_id"
)
_SOME_PEOPLE = _PEOPLE_COLUMNS + " LIMIT $1"
_THESE_PEOPLE = _PEOPLE_COLUMNS + " WHERE p.person_id = ANY($1::uuid[])"


def _person(row: asyncpg.Record, *, own: bool = False) -> PersonView:
    """A row as a scan sees the person; ``own``: a persons row (the caller), without a relation."""
    return PersonView(
        person_id=row["person_id"],
        masked_name=row["masked_name"] or "",
        masked_id=row["masked_id"] or "",
        allowed=True,
        relation=None if own else row["relation"],
    )


class Store:
    """Reads for the HTTP rules; writes go through ``ReadModel`` inside one event's transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def inspectors_of(self, venue_id: UUID) -> frozenset[UUID]:
        rows = await self._pool.fetch(
            "SELECT person_id FROM checkin.inspector_bindings WHERE venue_id = $1", venue_id
        )
        return frozenset(r["person_id"] for r in rows)

    async def paper_serial(self, person_id: UUID) -> int | None:
        """The highest paper-code serial status announced for the person; None when none arrived."""
        serial: int | None = await self._pool.fetchval(
            "SELECT serial FROM checkin.paper_serials WHERE person_id = $1", person_id
        )
        return serial

    async def venue_staff(self, venue_id: UUID, caller: UUID) -> VenueStaff:
        row = await self._pool.fetchrow(_VENUE_STAFF, venue_id, caller)
        if row is None:
            return VenueStaff(exists=False, is_staff=False)
        return VenueStaff(exists=True, is_staff=bool(row["is_staff"]))

    async def people_of(self, caller: UUID) -> list[PersonView]:
        """The caller first, then their dependents."""
        return [_person(r) for r in await self._pool.fetch(_PEOPLE_OF, caller)]

    async def inspector_venues(self, person_id: UUID) -> list[Venue]:
        """The venues a person is bound to as inspector, by name."""
        rows = await self._pool.fetch(
            "SELECT v.venue_id, v.name, v.poster_version, v.administrator_id"
            " FROM checkin.inspector_bindings b JOIN checkin.venues v ON v.venue_id = b.venue_id"
            " WHERE b.person_id = $1 ORDER BY v.name",
            person_id,
        )
        return [Venue(r["venue_id"], r["name"], r["poster_version"], r["administrator_id"]) for r in rows]

    async def venue(self, venue_id: UUID) -> Venue | None:
        row = await self._pool.fetchrow(
            "SELECT venue_id, name, poster_version, administrator_id FROM checkin.venues WHERE venue_id = $1",
            venue_id,
        )
        return (
            Venue(row["venue_id"], row["name"], row["poster_version"], row["administrator_id"])
            if row
            else None
        )

    async def venues_to_load(self, limit: int) -> list[tuple[Venue, frozenset[UUID]]]:
        """Up to ``limit`` venues with their inspectors: what a process loads at start."""
        return await self._venues(_SOME_VENUES, limit)

    async def venues_of(self, venue_ids: list[UUID]) -> list[tuple[Venue, frozenset[UUID]]]:
        """These venues (those that exist) with their inspectors, as ``venues_to_load`` has them."""
        return await self._venues(_THESE_VENUES, venue_ids)

    async def _venues(self, query: str, arg: object) -> list[tuple[Venue, frozenset[UUID]]]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(query, arg)
            bound = await conn.fetch(
                "SELECT venue_id, person_id FROM checkin.inspector_bindings WHERE venue_id = ANY($1::uuid[])",
                [r["venue_id"] for r in rows],
            )
        inspectors: dict[UUID, set[UUID]] = {}
        for b in bound:
            inspectors.setdefault(b["venue_id"], set()).add(b["person_id"])
        return [
            (
                Venue(r["venue_id"], r["name"], r["poster_version"], r["administrator_id"]),
                frozenset(inspectors.get(r["venue_id"], ())),
            )
            for r in rows
        ]

    async def families_to_load(self, limit: int) -> list[tuple[tuple[PersonView, ...], int | None]]:
        """Up to ``limit`` people, each as ``people_of`` has them (themself, then their dependents
        by masked name), with their paper-code serial: what a process loads at start."""
        return await self._families(_SOME_PEOPLE, limit)

    async def families_of(self, person_ids: list[UUID]) -> list[tuple[tuple[PersonView, ...], int | None]]:
        """The families of these people (those registered), as ``families_to_load`` has them."""
        return await self._families(_THESE_PEOPLE, person_ids)

    async def _families(self, query: str, arg: object) -> list[tuple[tuple[PersonView, ...], int | None]]:
        async with self._pool.acquire() as conn:
            people = await conn.fetch(query, arg)
            links = await conn.fetch(
                "SELECT g.guardian_id, g.person_id, p.masked_name, p.masked_id, g.relation"
                " FROM checkin.guardianships g LEFT JOIN checkin.persons p ON p.person_id = g.person_id"
                " WHERE g.guardian_id = ANY($1::uuid[]) ORDER BY g.guardian_id, p.masked_name",
                [r["person_id"] for r in people],
            )
        dependents: dict[UUID, list[PersonView]] = {}
        for link in links:
            dependents.setdefault(link["guardian_id"], []).append(_person(link))
        return [((_person(p, own=True), *dependents.get(p["person_id"], ())), p["serial"]) for p in people]

    async def changes_since(self, since: datetime | None) -> tuple[list[tuple[int, str, UUID]], datetime]:
        """The venues and families changed at or after ``since`` (None: none yet), each with its
        change's number, and the database's time now, the next call's ``since``."""
        async with self._pool.acquire() as conn:
            now: datetime = await conn.fetchval("SELECT clock_timestamp()")
            if since is None:
                return [], now
            rows = await conn.fetch(
                "SELECT seq, kind, id FROM checkin.changes WHERE at >= $1 ORDER BY seq", since
            )
        return [(r["seq"], r["kind"], r["id"]) for r in rows], now

    async def forget_changes_older_than(self, keep: timedelta) -> int:
        """Drop the changes older than ``keep`` by the database's clock; how many went."""
        status: str = await self._pool.execute(
            "DELETE FROM checkin.changes WHERE at < clock_timestamp() - $1::interval", keep
        )
        return int(status.rsplit(maxsplit=1)[-1])

    @asynccontextmanager
    async def event(self, event_id: UUID) -> AsyncIterator[ReadModel | None]:
        """A transaction for one consumed event; None when the event was handled before."""
        async with self._pool.acquire() as conn, conn.transaction():
            yield ReadModel(conn) if await claim_event(conn, SCHEMA, event_id) else None


class ReadModel:
    """Writes of the read models, in the caller's transaction; each is order-tolerant, and notes
    what it changed in checkin.changes for the in-process copies (memory.py)."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def _changed_venue(self, venue_id: UUID) -> None:
        await self._conn.execute("INSERT INTO checkin.changes (kind, id) VALUES ('venue', $1)", venue_id)

    async def _changed_family(self, person_id: UUID) -> None:
        # The person's own family, and every family they are a dependent in.
        await self._conn.execute(
            "INSERT INTO checkin.changes (kind, id) SELECT 'family', $1"
            " UNION SELECT 'family', guardian_id FROM checkin.guardianships WHERE person_id = $1",
            person_id,
        )

    async def put_person(self, person_id: UUID, masked_name: str, masked_id: str) -> None:
        await self._conn.execute(
            "INSERT INTO checkin.persons (person_id, masked_name, masked_id) VALUES ($1, $2, $3)"
            " ON CONFLICT (person_id) DO UPDATE SET masked_name = EXCLUDED.masked_name,"
            " masked_id = EXCLUDED.masked_id",
            person_id,
            masked_name,
            masked_id,
        )
        await self._changed_family(person_id)

    async def link_guardian(self, guardian_id: UUID, person_id: UUID, relation: str) -> None:
        await self._conn.execute(
            "INSERT INTO checkin.guardianships (guardian_id, person_id, relation) VALUES ($1, $2, $3)"
            " ON CONFLICT (guardian_id, person_id) DO UPDATE SET relation = EXCLUDED.relation",
            guardian_id,
            person_id,
            relation,
        )
        await self._changed_family(guardian_id)

    async def unlink_guardian(self, guardian_id: UUID, person_id: UUID) -> None:
        await self._conn.execute(
            "DELETE FROM checkin.guardianships WHERE guardian_id = $1 AND person_id = $2",
            guardian_id,
            person_id,
        )
        # Every process's in-memory copy of the guardian's family forgets the person.
        await self._changed_family(guardian_id)

    async def put_venue(
        self, venue_id: UUID, name: str, poster_version: int, administrator_id: UUID | None
    ) -> None:
        # A reissue may have been applied first: the poster version only ever grows.
        await self._conn.execute(
            "INSERT INTO checkin.venues (venue_id, name, poster_version, administrator_id)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (venue_id) DO UPDATE SET name = EXCLUDED.name,"
            " poster_version = GREATEST(checkin.venues.poster_version, EXCLUDED.poster_version),"
            " administrator_id = COALESCE(EXCLUDED.administrator_id, checkin.venues.administrator_id)",
            venue_id,
            name,
            poster_version,
            administrator_id,
        )
        await self._changed_venue(venue_id)

    async def rename_venue(self, venue_id: UUID, name: str) -> None:
        await self._conn.execute("UPDATE checkin.venues SET name = $2 WHERE venue_id = $1", venue_id, name)
        await self._changed_venue(venue_id)

    async def set_administrator(self, venue_id: UUID, administrator_id: UUID) -> None:
        await self._conn.execute(
            "UPDATE checkin.venues SET administrator_id = $2 WHERE venue_id = $1", venue_id, administrator_id
        )
        await self._changed_venue(venue_id)

    async def reissue_poster(self, venue_id: UUID, poster_version: int) -> None:
        await self._conn.execute(
            "UPDATE checkin.venues SET poster_version = GREATEST(poster_version, $2) WHERE venue_id = $1",
            venue_id,
            poster_version,
        )
        await self._changed_venue(venue_id)

    async def bind_inspector(self, venue_id: UUID, person_id: UUID, bound_at: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO checkin.inspector_bindings (venue_id, person_id, bound_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (venue_id, person_id) DO NOTHING",
            venue_id,
            person_id,
            bound_at,
        )
        await self._changed_venue(venue_id)  # the venue's inspectors are kept with it (memory.py)

    async def unbind_inspector(self, venue_id: UUID, person_id: UUID) -> None:
        await self._conn.execute(
            "DELETE FROM checkin.inspector_bindings WHERE venue_id = $1 AND person_id = $2",
            venue_id,
            person_id,
        )
        await self._changed_venue(venue_id)

    async def raise_paper_serial(self, person_id: UUID, serial: int) -> None:
        # Only ever raised: an older card's event arriving late (or replayed) must not
        # make a revoked card acceptable again.
        await self._conn.execute(
            "INSERT INTO checkin.paper_serials AS s (person_id, serial) VALUES ($1, $2)"
            " ON CONFLICT (person_id) DO UPDATE SET serial = GREATEST(s.serial, EXCLUDED.serial)",
            person_id,
            serial,
        )
        # The serial is kept with the person's family in memory (memory.py).
        await self._conn.execute("INSERT INTO checkin.changes (kind, id) VALUES ('family', $1)", person_id)

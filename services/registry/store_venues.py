"""The SQL of venues and their inspectors (``registry.venues``, ``registry.inspector_bindings``)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.registry.errors import AccountGone, VenueAlreadyAdministered, VenueNameTaken
from services.registry.models import BoundVenue, Category, Inspector, Venue
from services.registry.store_db import Db, savepoint

_VENUE = (
    "venue_id, region_code, name, address, category, administrator_id, declaration_code,"
    " poster_version, poster_issued_at"
)
# The constraints of registry.venues (0002_people_venues.sql) and the rule each one keeps.
ONE_PER_ADMINISTRATOR = "venues_one_per_administrator"
DECLARATION_CODE = "venues_declaration_code"


def _venue(row: asyncpg.Record) -> Venue:
    return Venue(
        row["venue_id"],
        row["region_code"],
        row["name"],
        row["address"],
        Category(row["category"]),
        row["administrator_id"],
        row["declaration_code"],
        row["poster_version"],
        row["poster_issued_at"],
    )


def _broken_rule(exc: asyncpg.UniqueViolationError) -> VenueAlreadyAdministered | VenueNameTaken:
    if exc.constraint_name == ONE_PER_ADMINISTRATOR:
        return VenueAlreadyAdministered()
    return VenueNameTaken()


class VenueStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def insert(
        self,
        *,
        venue_id: UUID,
        region_code: str,
        name: str,
        address: str | None,
        category: Category,
        administrator_id: UUID,
        declaration_code: str,
    ) -> Venue | None:
        """The new venue; None when the declaration code is taken (draw another). A second venue
        of the administrator or a taken name in the region raise their conflict."""
        try:
            async with savepoint(self._db):
                row = await self._db.fetchrow(
                    "INSERT INTO registry.venues (venue_id, region_code, name, address, category,"  # noqa: S608
                    " administrator_id, declaration_code) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    f" RETURNING {_VENUE}",
                    venue_id,
                    region_code,
                    name,
                    address,
                    category.value,
                    administrator_id,
                    declaration_code,
                )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == DECLARATION_CODE:
                return None
            raise _broken_rule(exc) from exc
        except asyncpg.ForeignKeyViolationError as exc:
            raise AccountGone from exc
        assert row is not None
        return _venue(row)

    async def by_id(self, venue_id: UUID) -> Venue | None:
        row = await self._db.fetchrow(f"SELECT {_VENUE} FROM registry.venues WHERE venue_id = $1", venue_id)  # noqa: S608
        return None if row is None else _venue(row)

    async def of_administrator(self, person_id: UUID) -> Venue | None:
        row = await self._db.fetchrow(
            f"SELECT {_VENUE} FROM registry.venues WHERE administrator_id = $1",  # noqa: S608
            person_id,
        )
        return None if row is None else _venue(row)

    async def by_declaration_code(self, code: str) -> Venue | None:
        row = await self._db.fetchrow(
            f"SELECT {_VENUE} FROM registry.venues WHERE declaration_code = $1",  # noqa: S608
            code,
        )
        return None if row is None else _venue(row)

    async def by_region_name(self, region_code: str, name: str) -> Venue | None:
        row = await self._db.fetchrow(
            f"SELECT {_VENUE} FROM registry.venues WHERE region_code = $1 AND name = $2",  # noqa: S608
            region_code,
            name,
        )
        return None if row is None else _venue(row)

    async def set_declaration_code(self, venue_id: UUID, code: str) -> bool:
        """False when another venue holds this code (draw another)."""
        try:
            async with savepoint(self._db):
                await self._db.execute(
                    "UPDATE registry.venues SET declaration_code = $2 WHERE venue_id = $1", venue_id, code
                )
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def rename(self, venue_id: UUID, name: str) -> Venue:
        """The renamed venue; a name taken in its region raises ``VenueNameTaken``."""
        try:
            row = await self._db.fetchrow(
                f"UPDATE registry.venues SET name = $2 WHERE venue_id = $1 RETURNING {_VENUE}",  # noqa: S608
                venue_id,
                name,
            )
        except asyncpg.UniqueViolationError as exc:
            raise _broken_rule(exc) from exc
        assert row is not None
        return _venue(row)

    async def reissue_poster(self, venue_id: UUID) -> int:
        """The new poster version."""
        version: int = await self._db.fetchval(
            "UPDATE registry.venues SET poster_version = poster_version + 1, poster_issued_at = now()"
            " WHERE venue_id = $1 RETURNING poster_version",
            venue_id,
        )
        return version

    # --- inspector bindings ------------------------------------------------------------

    async def bind_inspector(self, venue_id: UUID, person_id: UUID) -> bool:
        """True when the binding is new."""
        try:
            done = await self._db.fetchval(
                "INSERT INTO registry.inspector_bindings (venue_id, person_id) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING RETURNING true",
                venue_id,
                person_id,
            )
        except asyncpg.ForeignKeyViolationError as exc:
            raise AccountGone from exc
        return bool(done)

    async def unbind_inspector(self, venue_id: UUID, person_id: UUID) -> bool:
        done = await self._db.fetchval(
            "DELETE FROM registry.inspector_bindings WHERE venue_id = $1 AND person_id = $2 RETURNING true",
            venue_id,
            person_id,
        )
        return bool(done)

    async def is_inspector(self, venue_id: UUID, person_id: UUID) -> bool:
        found = await self._db.fetchval(
            "SELECT true FROM registry.inspector_bindings WHERE venue_id = $1 AND person_id = $2",
            venue_id,
            person_id,
        )
        return bool(found)

    async def inspectors_of(self, venue_id: UUID) -> list[Inspector]:
        rows = await self._db.fetch(
            "SELECT b.person_id, p.masked_name, b.bound_at FROM registry.inspector_bindings b"
            " JOIN registry.people p ON p.person_id = b.person_id WHERE b.venue_id = $1 ORDER BY b.bound_at",
            venue_id,
        )
        return [Inspector(r["person_id"], r["masked_name"], r["bound_at"]) for r in rows]

    async def venues_of_inspector(self, person_id: UUID) -> list[BoundVenue]:
        rows = await self._db.fetch(
            "SELECT v.venue_id, v.name, v.region_code, v.poster_version, b.bound_at,"
            " v.administrator_id = b.person_id AS is_administrator"
            " FROM registry.inspector_bindings b JOIN registry.venues v ON v.venue_id = b.venue_id"
            " WHERE b.person_id = $1 ORDER BY b.bound_at",
            person_id,
        )
        return [
            BoundVenue(
                r["venue_id"],
                r["name"],
                r["region_code"],
                r["poster_version"],
                r["bound_at"],
                r["is_administrator"],
            )
            for r in rows
        ]

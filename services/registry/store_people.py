"""The SQL of people and their staff roles (``registry.people``, ``registry.role_grants``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

import asyncpg

from services.registry.models import Person
from services.registry.store_db import Db, savepoint
from shared.events import IdKind

_PERSON = "person_id, id_kind, masked_id, masked_name, name_digest, birth_date, password_hash"


def _person(row: asyncpg.Record) -> Person:
    return Person(
        row["person_id"],
        row["id_kind"],
        row["masked_id"],
        row["masked_name"],
        row["name_digest"],
        row["birth_date"],
        row["password_hash"],
    )


class PeopleStore:
    """``registry.people`` and ``registry.role_grants``."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def insert(
        self,
        *,
        person_id: UUID,
        id_kind: IdKind,
        id_cipher: bytes,
        id_digest: str,
        masked_id: str,
        name: str,
        masked_name: str,
        name_digest: str,
        birth_date: date | None,
        phone: str | None,
        password_hash: str | None,
    ) -> Person | None:
        """The new person; None when a person with this identity digest exists already."""
        try:
            async with savepoint(self._db):
                row = await self._db.fetchrow(
                    "INSERT INTO registry.people (person_id, id_kind, id_cipher, id_digest, masked_id,"  # noqa: S608
                    " name, masked_name, name_digest, birth_date, phone, password_hash)"
                    f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {_PERSON}",
                    person_id,
                    id_kind,
                    id_cipher,
                    id_digest,
                    masked_id,
                    name,
                    masked_name,
                    name_digest,
                    birth_date,
                    phone,
                    password_hash,
                )
        except asyncpg.UniqueViolationError:
            return None
        assert row is not None
        return _person(row)

    async def by_digest(self, id_digest: str, *, for_update: bool = False) -> Person | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self._db.fetchrow(
            f"SELECT {_PERSON} FROM registry.people WHERE id_digest = $1{lock}",  # noqa: S608
            id_digest,
        )
        return None if row is None else _person(row)

    async def accounts_by_digests(self, id_digests: Sequence[str]) -> list[Person]:
        """People holding a password whose identity digest is one of these (one per document kind)."""
        rows = await self._db.fetch(
            f"SELECT {_PERSON} FROM registry.people"  # noqa: S608
            " WHERE id_digest = ANY($1::text[]) AND password_hash IS NOT NULL",
            list(id_digests),
        )
        return [_person(r) for r in rows]

    async def by_id(self, person_id: UUID) -> Person | None:
        row = await self._db.fetchrow(
            f"SELECT {_PERSON} FROM registry.people WHERE person_id = $1",  # noqa: S608
            person_id,
        )
        return None if row is None else _person(row)

    async def open_account(self, person_id: UUID, phone: str, password_hash: str) -> bool:
        """Give a family member who had no account a phone and password; False if one exists already."""
        done = await self._db.fetchval(
            "UPDATE registry.people SET phone = $2, password_hash = $3"
            " WHERE person_id = $1 AND password_hash IS NULL RETURNING true",
            person_id,
            phone,
            password_hash,
        )
        return bool(done)

    async def roles_of(self, person_id: UUID) -> list[str]:
        rows = await self._db.fetch(
            "SELECT role FROM registry.role_grants WHERE person_id = $1 ORDER BY role", person_id
        )
        return [str(r["role"]) for r in rows]

    async def grant_role(self, person_id: UUID, role: str, granted_by: UUID | None) -> bool:
        """True when the grant is new."""
        done = await self._db.fetchval(
            "INSERT INTO registry.role_grants (person_id, role, granted_by) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true",
            person_id,
            role,
            granted_by,
        )
        return bool(done)

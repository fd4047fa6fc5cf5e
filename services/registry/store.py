"""Every SQL statement of the registry (asyncpg, ``$1`` placeholders); rows come back as models.

Each function takes the connection, so the service decides what shares one transaction.
Unique-constraint violations are left to the caller, which names the rule that was broken.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from services.registry.models import (
    BoundVenue,
    Category,
    Inspector,
    OutboxRow,
    Person,
    Venue,
)
from shared.events import IdKind

# A pooled connection or a plain one: both speak the same API.
Conn: TypeAlias = asyncpg.Connection

_PERSON = "person_id, id_kind, masked_id, masked_name, name_digest, birth_date, password_hash"
_VENUE = (
    "venue_id, region_code, name, address, category, administrator_id, declaration_code,"
    " poster_version, poster_issued_at"
)


def _person(row: Any) -> Person:
    return Person(
        row["person_id"],
        row["id_kind"],
        row["masked_id"],
        row["masked_name"],
        row["name_digest"],
        row["birth_date"],
        row["password_hash"],
    )


def _venue(row: Any) -> Venue:
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


# --- people ---------------------------------------------------------------------------


async def insert_person(
    conn: Conn,
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
) -> None:
    await conn.execute(
        "INSERT INTO registry.people (person_id, id_kind, id_cipher, id_digest, masked_id, name,"
        " masked_name, name_digest, birth_date, phone, password_hash)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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


async def person_by_digest(conn: Conn, id_digest: str, *, for_update: bool = False) -> Person | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_PERSON} FROM registry.people WHERE id_digest = $1{lock}",  # noqa: S608
        id_digest,
    )
    return None if row is None else _person(row)


async def accounts_by_digests(conn: Conn, id_digests: Sequence[str]) -> list[Person]:
    """People holding a password whose identity digest is one of these (one per document kind)."""
    rows = await conn.fetch(
        f"SELECT {_PERSON} FROM registry.people"  # noqa: S608
        " WHERE id_digest = ANY($1::text[]) AND password_hash IS NOT NULL",
        list(id_digests),
    )
    return [_person(r) for r in rows]


async def person_by_id(conn: Conn, person_id: UUID) -> Person | None:
    row = await conn.fetchrow(
        f"SELECT {_PERSON} FROM registry.people WHERE person_id = $1",  # noqa: S608
        person_id,
    )
    return None if row is None else _person(row)


async def open_account(conn: Conn, person_id: UUID, phone: str, password_hash: str) -> bool:
    """Give a family member who had no account a phone and password; False if one exists already."""
    done = await conn.fetchval(
        "UPDATE registry.people SET phone = $2, password_hash = $3"
        " WHERE person_id = $1 AND password_hash IS NULL RETURNING true",
        person_id,
        phone,
        password_hash,
    )
    return bool(done)


async def roles_of(conn: Conn, person_id: UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT role FROM registry.role_grants WHERE person_id = $1 ORDER BY role", person_id
    )
    return [r["role"] for r in rows]


async def grant_role(conn: Conn, person_id: UUID, role: str, granted_by: UUID | None) -> bool:
    """True when the grant is new."""
    done = await conn.fetchval(
        "INSERT INTO registry.role_grants (person_id, role, granted_by) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING true",
        person_id,
        role,
        granted_by,
    )
    return bool(done)


# --- venues ----------------------------------------------------------------------------


async def insert_venue(
    conn: Conn,
    *,
    venue_id: UUID,
    region_code: str,
    name: str,
    address: str | None,
    category: Category,
    administrator_id: UUID,
    declaration_code: str,
) -> Venue:
    row = await conn.fetchrow(
        "INSERT INTO registry.venues (venue_id, region_code, name, address, category, administrator_id,"  # noqa: S608
        f" declaration_code) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_VENUE}",
        venue_id,
        region_code,
        name,
        address,
        category.value,
        administrator_id,
        declaration_code,
    )
    return _venue(row)


async def venue_by_id(conn: Conn, venue_id: UUID) -> Venue | None:
    row = await conn.fetchrow(f"SELECT {_VENUE} FROM registry.venues WHERE venue_id = $1", venue_id)  # noqa: S608
    return None if row is None else _venue(row)


async def venue_of_administrator(conn: Conn, person_id: UUID) -> Venue | None:
    row = await conn.fetchrow(
        f"SELECT {_VENUE} FROM registry.venues WHERE administrator_id = $1",  # noqa: S608
        person_id,
    )
    return None if row is None else _venue(row)


async def venue_by_declaration_code(conn: Conn, code: str) -> Venue | None:
    row = await conn.fetchrow(
        f"SELECT {_VENUE} FROM registry.venues WHERE declaration_code = $1",  # noqa: S608
        code,
    )
    return None if row is None else _venue(row)


async def venues_by_ids(conn: Conn, venue_ids: Sequence[UUID]) -> list[Venue]:
    rows = await conn.fetch(
        f"SELECT {_VENUE} FROM registry.venues WHERE venue_id = ANY($1::uuid[])",  # noqa: S608
        list(venue_ids),
    )
    return [_venue(r) for r in rows]


async def venue_by_region_name(conn: Conn, region_code: str, name: str) -> Venue | None:
    row = await conn.fetchrow(
        f"SELECT {_VENUE} FROM registry.venues WHERE region_code = $1 AND name = $2",  # noqa: S608
        region_code,
        name,
    )
    return None if row is None else _venue(row)


async def set_declaration_code(conn: Conn, venue_id: UUID, code: str) -> None:
    await conn.execute("UPDATE registry.venues SET declaration_code = $2 WHERE venue_id = $1", venue_id, code)


async def rename_venue(conn: Conn, venue_id: UUID, name: str) -> None:
    await conn.execute("UPDATE registry.venues SET name = $2 WHERE venue_id = $1", venue_id, name)


async def reissue_poster(conn: Conn, venue_id: UUID) -> int:
    """The new poster version."""
    version: int = await conn.fetchval(
        "UPDATE registry.venues SET poster_version = poster_version + 1, poster_issued_at = now()"
        " WHERE venue_id = $1 RETURNING poster_version",
        venue_id,
    )
    return version


# --- inspector bindings ----------------------------------------------------------------


async def bind_inspector(conn: Conn, venue_id: UUID, person_id: UUID) -> bool:
    """True when the binding is new."""
    done = await conn.fetchval(
        "INSERT INTO registry.inspector_bindings (venue_id, person_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING true",
        venue_id,
        person_id,
    )
    return bool(done)


async def unbind_inspector(conn: Conn, venue_id: UUID, person_id: UUID) -> bool:
    done = await conn.fetchval(
        "DELETE FROM registry.inspector_bindings WHERE venue_id = $1 AND person_id = $2 RETURNING true",
        venue_id,
        person_id,
    )
    return bool(done)


async def is_inspector(conn: Conn, venue_id: UUID, person_id: UUID) -> bool:
    found = await conn.fetchval(
        "SELECT true FROM registry.inspector_bindings WHERE venue_id = $1 AND person_id = $2",
        venue_id,
        person_id,
    )
    return bool(found)


async def inspectors_of(conn: Conn, venue_id: UUID) -> list[Inspector]:
    rows = await conn.fetch(
        "SELECT b.person_id, p.masked_name, b.bound_at FROM registry.inspector_bindings b"
        " JOIN registry.people p ON p.person_id = b.person_id WHERE b.venue_id = $1 ORDER BY b.bound_at",
        venue_id,
    )
    return [Inspector(r["person_id"], r["masked_name"], r["bound_at"]) for r in rows]


async def venues_of_inspector(conn: Conn, person_id: UUID) -> list[BoundVenue]:
    rows = await conn.fetch(
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


async def binding_time(conn: Conn, venue_id: UUID, person_id: UUID) -> datetime | None:
    found: datetime | None = await conn.fetchval(
        "SELECT bound_at FROM registry.inspector_bindings WHERE venue_id = $1 AND person_id = $2",
        venue_id,
        person_id,
    )
    return found


# --- outbox ----------------------------------------------------------------------------


async def add_to_outbox(conn: Conn, topic: str, key: bytes, payloads: Sequence[str]) -> list[int]:
    rows = await conn.fetch(
        "INSERT INTO registry.outbox (topic, key, payload)"
        " SELECT $1, $2, p FROM unnest($3::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n"
        " RETURNING outbox_id",
        topic,
        key,
        list(payloads),
    )
    return [r["outbox_id"] for r in rows]


async def mark_sent(conn: Conn, outbox_ids: Sequence[int]) -> None:
    await conn.execute(
        "UPDATE registry.outbox SET sent_at = now() WHERE outbox_id = ANY($1::bigint[]) AND sent_at IS NULL",
        list(outbox_ids),
    )


async def claim_unsent(conn: Conn, min_age_s: float, limit: int) -> list[OutboxRow]:
    """Unsent rows older than ``min_age_s``, locked for this transaction (other relays skip them)."""
    rows = await conn.fetch(
        "SELECT outbox_id, topic, key, payload FROM registry.outbox"
        " WHERE sent_at IS NULL AND created_at < now() - make_interval(secs => $1)"
        " ORDER BY outbox_id LIMIT $2 FOR UPDATE SKIP LOCKED",
        min_age_s,
        limit,
    )
    return [OutboxRow(r["outbox_id"], r["topic"], bytes(r["key"]), r["payload"]) for r in rows]


async def unsent_before(conn: Conn, topic: str, key: bytes, before_id: int) -> list[OutboxRow]:
    """Unsent rows of one topic and key written before ``before_id``, oldest first."""
    rows = await conn.fetch(
        "SELECT outbox_id, topic, key, payload FROM registry.outbox"
        " WHERE sent_at IS NULL AND topic = $1 AND key = $2 AND outbox_id < $3 ORDER BY outbox_id",
        topic,
        key,
        before_id,
    )
    return [OutboxRow(r["outbox_id"], r["topic"], bytes(r["key"]), r["payload"]) for r in rows]


async def unsent_count(conn: Conn) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM registry.outbox WHERE sent_at IS NULL")
    return count


async def prune_outbox(conn: Conn, older_than_s: float) -> int:
    """Delete rows sent more than ``older_than_s`` ago; how many went."""
    status: str = await conn.execute(
        "DELETE FROM registry.outbox"
        " WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(secs => $1)",
        older_than_s,
    )
    return int(status.rsplit(" ", 1)[-1])

"""Every SQL statement of the tracing service that ingests and keeps the history (asyncpg).

The contact-query statements live beside it in ``store_contacts.py``; the two are
the only places that speak SQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.tracing.models import (
    CHECKIN_COLUMNS,
    AuditEntry,
    CaseVisit,
    CheckinRow,
    CheckoutRow,
    Contact,
    ContactQueryResult,
    OwnVisit,
    Person,
    PresenceRow,
    QueryParameters,
    Venue,
)

# A visit never lasts longer than this (API.md: "12 hours at most"), so a scan
# for visits alive at time t starts at t - 12 h; it bounds every partition scan.
MAX_DWELL_MINUTES = 720
_STAGING = "tracing_staging"
_COLUMNS = ", ".join(CHECKIN_COLUMNS)
# Duplicates are refused by the key (venue_id, checked_in_at, checkin_id): a redelivered
# event, a replay into another consumer group, two consumers overlapping in a rebalance and a
# retried scan (same checkin_id, same checked_in_at) all carry the same key. COPY cannot say
# ON CONFLICT, so a batch is COPYed into a temporary staging table and moved over with one
# INSERT ... SELECT ... ON CONFLICT DO NOTHING, which waits for a concurrent writer of the
# same key and then skips it. Measured here (200 k rows in batches of 5000, 2 shared
# cores): raw COPY 68-86 k rows/s, this 57-62 k (0.72-0.84 of it), an INSERT from
# unnest() of nine arrays 41-44 k (asyncpg spends ~2.7 us a row encoding the arrays). A
# probe for stored keys before a raw COPY (what this replaced) cost ~5 us a row in Postgres
# and still needed this path when another writer won the race: it bought nothing.
# Rows go in key order, so two writers of overlapping batches (a rebalance) wait for each
# other's keys in one order and cannot deadlock.
# The rows stored are counted from RETURNING: on Citus the command tag of an INSERT ...
# SELECT counts the rows sent, refused ones too.
_MOVE_STAGED = (
    f"WITH stored AS (INSERT INTO tracing.checkins ({_COLUMNS})"  # noqa: S608 - constant names
    f" SELECT {_COLUMNS} FROM pg_temp.{_STAGING}"
    " ORDER BY venue_id, checked_in_at, checkin_id ON CONFLICT DO NOTHING RETURNING 1)"
    " SELECT count(*) FROM stored"
)

# Issue 16's compliance view reads each venue's latest check-in from tracing.venue_activity:
# one upsert per batch, per venue in it, in venue order (no deadlock between two writers), and
# only where the batch is newer, so a replay of old events writes nothing.
_RAISE_ACTIVITY = (
    "INSERT INTO tracing.venue_activity AS a (venue_id, last_checkin_at)"  # noqa: S608 - constant names
    f" SELECT venue_id, max(checked_in_at) FROM pg_temp.{_STAGING} GROUP BY venue_id ORDER BY venue_id"
    " ON CONFLICT (venue_id) DO UPDATE SET last_checkin_at = excluded.last_checkin_at"
    " WHERE a.last_checkin_at < excluded.last_checkin_at"
)


async def ensure_partitions(conn: asyncpg.Connection, days: Sequence[date]) -> list[date]:
    """Create the day partitions that are missing; returns the days created."""
    rows = await conn.fetch(
        "SELECT d, tracing.ensure_day_partition(d) AS created FROM unnest($1::date[]) AS d", list(days)
    )
    return [row["d"] for row in rows if row["created"]]


async def distribute_on_citus(conn: asyncpg.Connection) -> str:
    """Shard the check-ins by venue where Citus is installed (migration 0005); 'plain' without it."""
    return str(await conn.fetchval("SELECT tracing.distribute_on_citus()"))


async def drop_partitions_before(conn: asyncpg.Connection, cutoff: date) -> list[str]:
    """Drop the day partitions wholly older than ``cutoff``; returns their names."""
    rows = await conn.fetch("SELECT tracing.drop_partitions_before($1) AS name", cutoff)
    return [row["name"] for row in rows]


async def partition_names(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'tracing.checkins'::regclass ORDER BY c.relname"
    )
    return [row["relname"] for row in rows]


def first_of_each(rows: Sequence[CheckinRow]) -> list[CheckinRow]:
    """One row per checkin_id, the earliest: a batch may carry a check-in and a retry of it
    sent without a client scan time while checkin's Redis was down (a later checked_in_at)."""
    first: dict[UUID, CheckinRow] = {}
    for row in rows:
        kept = first.setdefault(row.checkin_id, row)
        if kept is not row and row.checked_in_at < kept.checked_in_at:
            first[row.checkin_id] = row
    return list(first.values()) if len(first) < len(rows) else list(rows)


async def record_checkins(conn: asyncpg.Connection, rows: Sequence[CheckinRow]) -> int:
    """Keep the check-ins whose key is not stored yet (see ``_MOVE_STAGED``); returns how many.

    The staging table is emptied at commit, so one pooled connection reuses it batch after
    batch; it runs in the caller's transaction, or in one of its own.
    """
    batch = first_of_each(rows)
    if not batch:
        return 0
    if not conn.is_in_transaction():
        async with conn.transaction():
            return await record_checkins(conn, batch)
    await conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (LIKE tracing.checkins) ON COMMIT DELETE ROWS"
    )
    await conn.copy_records_to_table(_STAGING, records=batch, columns=CHECKIN_COLUMNS)
    stored = int(await conn.fetchval(_MOVE_STAGED))
    await conn.execute(_RAISE_ACTIVITY)
    return stored


async def apply_checkouts(conn: asyncpg.Connection, checkouts: Sequence[CheckoutRow]) -> int:
    """End open visits: each gets the earliest check-out (same person and venue) after its start.

    Only visits that started within 12 h before a check-out can be shortened by
    it (a visit never lasts longer), which also bounds the partitions touched.
    Re-applying the same check-outs changes nothing. Every join goes through venue_id,
    the distribution column on Citus, so each check-out's work stays on its venue's shard.
    """
    if not checkouts:
        return 0
    status = await conn.execute(
        """
        UPDATE tracing.checkins AS c SET checked_out_at = x.out_at
        FROM (
            SELECT v.venue_id, v.checked_in_at, v.checkin_id, min(co.out_at) AS out_at
            FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS co(person_id, venue_id, out_at)
            JOIN tracing.checkins AS v
              ON v.person_id = co.person_id AND v.venue_id = co.venue_id
             AND v.checked_in_at < co.out_at
             AND v.checked_in_at >= co.out_at - make_interval(mins => $4)
             AND v.checked_in_at >= $5::timestamptz - make_interval(mins => $4)
             AND v.checked_in_at < $6::timestamptz
             AND v.checked_out_at IS NULL
            GROUP BY v.venue_id, v.checked_in_at, v.checkin_id
        ) AS x
        WHERE c.venue_id = x.venue_id AND c.checked_in_at = x.checked_in_at
          AND c.checkin_id = x.checkin_id
          AND c.checked_out_at IS NULL
        """,
        [c.person_id for c in checkouts],
        [c.venue_id for c in checkouts],
        [c.checked_out_at for c in checkouts],
        MAX_DWELL_MINUTES,
        min(c.checked_out_at for c in checkouts),
        max(c.checked_out_at for c in checkouts),
    )
    return int(status.rsplit(" ", 1)[-1])


async def count_checkins(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM tracing.checkins"))


async def upsert_venue(conn: asyncpg.Connection, venue: Venue, registered_at: datetime | None = None) -> None:
    await conn.execute(
        # updated_at from excluded, not now(): Citus refuses a non-immutable function in the
        # DO UPDATE of a reference table (0005), and VALUES evaluates now() once anyway.
        # A reissue may arrive first: the poster version only grows.
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


async def rename_venue(conn: asyncpg.Connection, venue_id: UUID, name: str) -> None:
    await conn.execute(
        "UPDATE tracing.venues SET name = $2, updated_at = now() WHERE venue_id = $1", venue_id, name
    )


async def upsert_person(conn: asyncpg.Connection, person: Person, id_digest: str) -> None:
    await conn.execute(
        "INSERT INTO tracing.persons (person_id, id_kind, id_digest, masked_name, masked_id, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (person_id) DO UPDATE SET"
        " id_kind = excluded.id_kind, id_digest = excluded.id_digest, masked_name = excluded.masked_name,"
        " masked_id = excluded.masked_id, updated_at = excluded.updated_at",
        person.person_id,
        person.id_kind,
        id_digest,
        person.masked_name,
        person.masked_id,
    )


async def person_by_digest(conn: asyncpg.Connection, id_digest: str) -> Person | None:
    row = await conn.fetchrow(
        "SELECT person_id, id_kind, masked_name, masked_id FROM tracing.persons WHERE id_digest = $1",
        id_digest,
    )
    return None if row is None else Person(**dict(row))


async def venue_presence(
    conn: asyncpg.Connection, venue_id: UUID, from_at: datetime, to_at: datetime, cutoff: datetime
) -> list[PresenceRow]:
    """Check-ins at a venue with checked_in_at in [from, to], never older than ``cutoff``."""
    rows = await conn.fetch(
        "SELECT person_id, checked_in_at, method, colour_at_checkin FROM tracing.checkins"
        " WHERE venue_id = $1 AND checked_in_at >= GREATEST($2::timestamptz, $4::timestamptz)"
        " AND checked_in_at <= $3 ORDER BY checked_in_at, person_id",
        venue_id,
        from_at,
        to_at,
        cutoff,
    )
    return [PresenceRow(**dict(row)) for row in rows]


async def own_visits(
    conn: asyncpg.Connection, person_id: UUID, from_at: datetime, to_at: datetime, cutoff: datetime
) -> list[OwnVisit]:
    rows = await conn.fetch(
        "SELECT c.checkin_id, c.venue_id, v.name AS venue_name, c.checked_in_at, c.checked_out_at,"
        " c.method, c.colour_at_checkin FROM tracing.checkins c"
        " LEFT JOIN tracing.venues v ON v.venue_id = c.venue_id"
        " WHERE c.person_id = $1 AND c.checked_in_at >= GREATEST($2::timestamptz, $4::timestamptz)"
        " AND c.checked_in_at <= $3 ORDER BY c.checked_in_at",
        person_id,
        from_at,
        to_at,
        cutoff,
    )
    return [OwnVisit(**dict(row)) for row in rows]


async def save_query(conn: asyncpg.Connection, result: ContactQueryResult) -> None:
    """Store a query and its contacts (inside the caller's transaction)."""
    p = result.parameters
    visits = [v.model_dump(mode="json") for v in result.case_visits]
    await conn.execute(
        "INSERT INTO tracing.contact_queries (query_id, requested_by, person_id, from_at, to_at,"
        " dwell_minutes, min_overlap_minutes, depth, case_visits, contact_count, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11)",
        result.query_id,
        result.requested_by,
        p.person_id,
        p.from_at,
        p.to_at,
        p.dwell_minutes,
        p.min_overlap_minutes,
        p.depth,
        json.dumps(visits),
        len(result.contacts),
        result.created_at,
    )
    await conn.copy_records_to_table(
        "query_contacts",
        schema_name="tracing",
        columns=(
            "query_id",
            "person_id",
            "venue_id",
            "contact_checked_in_at",
            "case_checked_in_at",
            "overlap_minutes",
            "depth",
            "via_person_id",
        ),
        records=[
            (
                result.query_id,
                c.person_id,
                c.venue_id,
                c.contact_checked_in_at,
                c.case_checked_in_at,
                c.overlap_minutes,
                c.depth,
                c.via_person_id,
            )
            for c in result.contacts
        ],
    )


async def load_query(conn: asyncpg.Connection, query_id: UUID) -> ContactQueryResult | None:
    head = await conn.fetchrow("SELECT * FROM tracing.contact_queries WHERE query_id = $1", query_id)
    if head is None:
        return None
    rows = await conn.fetch(
        "SELECT q.person_id, q.venue_id, v.name AS venue_name, q.contact_checked_in_at,"
        " q.case_checked_in_at, q.overlap_minutes, q.depth, q.via_person_id"
        " FROM tracing.query_contacts q LEFT JOIN tracing.venues v ON v.venue_id = q.venue_id"
        " WHERE q.query_id = $1 ORDER BY q.depth, q.overlap_minutes DESC, q.person_id",
        query_id,
    )
    return ContactQueryResult(
        query_id=head["query_id"],
        requested_by=head["requested_by"],
        parameters=QueryParameters(
            person_id=head["person_id"],
            from_at=head["from_at"],
            to_at=head["to_at"],
            dwell_minutes=head["dwell_minutes"],
            min_overlap_minutes=head["min_overlap_minutes"],
            depth=head["depth"],
        ),
        case_visits=[CaseVisit(**v) for v in json.loads(head["case_visits"])],
        contacts=[Contact(**dict(row)) for row in rows],
        created_at=head["created_at"],
    )


async def delete_queries_before(conn: asyncpg.Connection, cutoff: datetime) -> int:
    status = await conn.execute("DELETE FROM tracing.contact_queries WHERE created_at < $1", cutoff)
    return int(status.rsplit(" ", 1)[-1])


async def delete_audit_before(conn: asyncpg.Connection, cutoff: datetime) -> int:
    status = await conn.execute("DELETE FROM tracing.audit_log WHERE at < $1", cutoff)
    return int(status.rsplit(" ", 1)[-1])


async def read_setting(conn: asyncpg.Connection, key: str) -> dict[str, Any] | None:
    raw = await conn.fetchval("SELECT value FROM tracing.settings WHERE key = $1", key)
    return None if raw is None else dict(json.loads(raw))


async def write_setting(conn: asyncpg.Connection, key: str, value: dict[str, Any], actor: UUID) -> None:
    await conn.execute(
        "INSERT INTO tracing.settings (key, value, updated_by) VALUES ($1, $2::jsonb, $3)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,"
        " updated_at = now()",
        key,
        json.dumps(value),
        actor,
    )


async def write_audit(
    conn: asyncpg.Connection,
    actor_id: UUID,
    action: str,
    count: int,
    *,
    query_id: UUID | None = None,
    subject_id: UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO tracing.audit_log (actor_id, action, query_id, subject_id, count, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
        actor_id,
        action,
        query_id,
        subject_id,
        count,
        json.dumps(detail or {}),
    )


async def audit_entries(conn: asyncpg.Connection, from_at: datetime, to_at: datetime) -> list[AuditEntry]:
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

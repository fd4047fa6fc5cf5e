"""The SQL of the check-in history: day partitions, the batch write, and reads of visits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from uuid import UUID

from services.tracing.models import CHECKIN_COLUMNS, CheckinRow, CheckoutRow, OwnVisit, PresenceRow
from services.tracing.store_base import MAX_DWELL_MINUTES, Conn, Connections, affected

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
# Rows go in one order, the key's with each venue's newest first, so two writers of overlapping
# batches (a rebalance) wait for each other's keys in one order and cannot deadlock.
# The rows stored are counted from RETURNING: on Citus the command tag of an INSERT ...
# SELECT counts the rows sent, refused ones too.
# Issue 16's compliance view reads each venue's latest check-in from tracing.venue_activity,
# raised in the same statement from the rows just stored (a refused duplicate was counted when
# it was stored): one upsert per venue, in venue order (no deadlock between two writers), and
# only where the batch is newer, so a replay of old events writes nothing. The stored rows come
# back in insertion order, so the DISTINCT ON's sort finds them sorted already; as a second
# statement it cost another scan of the staging table, an aggregate and a sort of its own
# (~0.3-0.9 us a row of backend CPU, measured beside it on 2 shared cores).
_MOVE_STAGED = (
    f"WITH stored AS (INSERT INTO tracing.checkins ({_COLUMNS})"  # noqa: S608 - constant names
    f" SELECT {_COLUMNS} FROM pg_temp.{_STAGING}"
    " ORDER BY venue_id, checked_in_at DESC, checkin_id ON CONFLICT DO NOTHING"
    " RETURNING venue_id, checked_in_at),"
    " raised AS (INSERT INTO tracing.venue_activity AS a (venue_id, last_checkin_at)"
    " SELECT DISTINCT ON (venue_id) venue_id, checked_in_at FROM stored"
    " ORDER BY venue_id, checked_in_at DESC"
    " ON CONFLICT (venue_id) DO UPDATE SET last_checkin_at = excluded.last_checkin_at"
    " WHERE a.last_checkin_at < excluded.last_checkin_at)"
    " SELECT count(*) FROM stored"
)
_APPLY_CHECKOUTS = """
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
        """


def first_of_each(rows: Sequence[CheckinRow]) -> list[CheckinRow]:
    """One row per checkin_id, the earliest: a batch may carry a check-in and a retry of it
    sent without a client scan time while checkin's Redis was down (a later checked_in_at)."""
    # Keyed by the id's integer: a UUID hashes in Python (~0.1 us a row more).
    first: dict[int, CheckinRow] = {}
    for row in rows:
        key = row.checkin_id.int
        kept = first.setdefault(key, row)
        if kept is not row and row.checked_in_at < kept.checked_in_at:
            first[key] = row
    return list(first.values()) if len(first) < len(rows) else list(rows)


class CheckinStore:
    """The check-ins: written a batch at a time, read by venue or by person, kept in day partitions."""

    def __init__(self, db: Connections) -> None:
        self._db = db

    async def ensure_partitions(self, days: Sequence[date]) -> list[date]:
        """Create the day partitions that are missing; returns the days created."""
        async with self._db() as conn:
            return await _ensure_partitions(conn, days)

    async def distribute_on_citus(self) -> str:
        """Shard the check-ins by venue where Citus is installed (migration 0005); 'plain' without it."""
        async with self._db() as conn:
            return str(await conn.fetchval("SELECT tracing.distribute_on_citus()"))

    async def drop_partitions_before(self, cutoff: date) -> list[str]:
        """Drop the day partitions wholly older than ``cutoff``; returns their names."""
        async with self._db() as conn:
            rows = await conn.fetch("SELECT tracing.drop_partitions_before($1) AS name", cutoff)
        return [str(row["name"]) for row in rows]

    async def write(
        self, checkins: Sequence[CheckinRow], checkouts: Sequence[CheckoutRow], *, partitions: Sequence[date]
    ) -> tuple[int, int]:
        """Make ``partitions`` sure, then store the check-ins and apply the check-outs in one
        transaction; returns (check-ins stored, visits ended).

        Check-ins go first, so a check-out in the same batch finds the visit it ends.
        """
        async with self._db() as conn:
            if partitions:
                # Its own short transaction: DDL holds a lock on the parent table.
                await _ensure_partitions(conn, partitions)
            async with conn.transaction():
                return await StagedCheckins(conn, await _stage_checkins(conn, checkins)).store(checkouts)

    @asynccontextmanager
    async def staged(self, checkins: Sequence[CheckinRow]) -> AsyncIterator[StagedCheckins]:
        """A transaction with ``checkins`` copied into its staging table and nothing else done yet:
        ``StagedCheckins.store`` then writes the batch, and the transaction commits when the block
        ends (an exception rolls it back). Staging takes no lock another writer of the check-ins
        waits for, so it may run while the batch before is still being stored (``pipeline``);
        the partitions must exist already."""
        async with self._db() as conn, conn.transaction():
            yield StagedCheckins(conn, await _stage_checkins(conn, checkins))

    async def presence(
        self, venue_id: UUID, from_at: datetime, to_at: datetime, cutoff: datetime
    ) -> list[PresenceRow]:
        """Check-ins at a venue with checked_in_at in [from, to], never older than ``cutoff``."""
        async with self._db() as conn:
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
        self, person_id: UUID, from_at: datetime, to_at: datetime, cutoff: datetime
    ) -> list[OwnVisit]:
        async with self._db() as conn:
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


async def _ensure_partitions(conn: Conn, days: Sequence[date]) -> list[date]:
    rows = await conn.fetch(
        "SELECT d, tracing.ensure_day_partition(d) AS created FROM unnest($1::date[]) AS d", list(days)
    )
    return [row["d"] for row in rows if row["created"]]


class StagedCheckins:
    """A batch's check-ins in the staging table of ``conn``, inside the transaction that stores them."""

    def __init__(self, conn: Conn, staged: int) -> None:
        self._conn = conn
        self._staged = staged

    async def store(self, checkouts: Sequence[CheckoutRow]) -> tuple[int, int]:
        """Keep the staged check-ins whose key is not stored yet (see ``_MOVE_STAGED``), then
        apply ``checkouts``; returns (check-ins stored, visits ended)."""
        written = int(await self._conn.fetchval(_MOVE_STAGED)) if self._staged else 0
        return written, await _apply_checkouts(self._conn, checkouts)


async def _stage_checkins(conn: Conn, rows: Sequence[CheckinRow]) -> int:
    """COPY the check-ins into the staging table (one row a checkin_id); returns how many.

    The staging table is emptied at commit, so one pooled connection reuses it batch after
    batch; it runs in the caller's transaction.
    """
    batch = first_of_each(rows)
    if not batch:
        return 0
    await conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (LIKE tracing.checkins) ON COMMIT DELETE ROWS"
    )
    await conn.copy_records_to_table(_STAGING, records=batch, columns=CHECKIN_COLUMNS)
    return len(batch)


async def _apply_checkouts(conn: Conn, checkouts: Sequence[CheckoutRow]) -> int:
    """End open visits: each gets the earliest check-out (same person and venue) after its start.

    Only visits that started within 12 h before a check-out can be shortened by
    it (a visit never lasts longer), which also bounds the partitions touched.
    Re-applying the same check-outs changes nothing. Every join goes through venue_id,
    the distribution column on Citus, so each check-out's work stays on its venue's shard.
    """
    if not checkouts:
        return 0
    status = await conn.execute(
        _APPLY_CHECKOUTS,
        [c.person_id for c in checkouts],
        [c.venue_id for c in checkouts],
        [c.checked_out_at for c in checkouts],
        MAX_DWELL_MINUTES,
        min(c.checked_out_at for c in checkouts),
        max(c.checked_out_at for c in checkouts),
    )
    return affected(status)

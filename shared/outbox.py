"""The transactional outbox: events are stored with the change they describe, sent after commit.

``stage`` writes the events in the caller's transaction (a store's unit of work calls it on its
connection); ``Outbox.send`` publishes them through the topic's ``shared.kafka.Publisher`` once
that transaction has committed, and marks them sent. If the broker does not acknowledge, the
answer is 503 but the rows stay unsent, and ``Outbox.relay`` (a ``shared.jobs`` job, once per
platform) sends them later, so no committed change is ever missing from its topic. Delivery is
at least once: consumers deduplicate by ``event_id``. Sent rows are kept for a retention (to
answer "was it ever sent?" when debugging a consumer), then ``Outbox.prune`` deletes them.

Each service has its own ``<schema>.outbox`` table of this one shape::

    outbox_id bigserial PRIMARY KEY, topic text NOT NULL, key bytea NOT NULL,
    payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz

The outbox runs on the database's wall clock, not a service clock: it is plumbing, and a test's
manual clock must not make fresh rows look stale.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg
from pydantic import BaseModel

from shared.db import Conn
from shared.events import EVENT_ADAPTER, decode, encode
from shared.jobs import Job
from shared.kafka import Publisher
from shared.metrics import OUTBOX_BACKLOG

# Rows younger than this are left to the request that wrote them, so the relay does not race it.
RELAY_MIN_AGE_S = 2.0
RELAY_BATCH = 500
# Sent rows are kept a week for debugging a consumer ("was it ever sent?"), then pruned hourly.
SENT_RETENTION_S = 7 * 24 * 3600.0
PRUNE_EVERY_S = 3600.0
_SCHEMA = re.compile(r"[a-z_]+")


@dataclass(frozen=True)
class Staged:
    """Events written to the outbox in a transaction, to be sent once it committed."""

    topic: str
    key: bytes
    events: tuple[BaseModel, ...]
    outbox_ids: tuple[int, ...]


@dataclass(frozen=True)
class OutboxRow:
    outbox_id: int
    topic: str
    key: bytes
    payload: str


def _table(schema: str) -> str:
    if not _SCHEMA.fullmatch(schema):
        raise ValueError(f"not a schema name: {schema!r}")
    return f"{schema}.outbox"


async def stage(conn: Conn, schema: str, topic: str, key: bytes, events: Sequence[BaseModel]) -> Staged:
    """Write events to ``<schema>.outbox`` on the caller's connection, inside its transaction."""
    rows = await conn.fetch(
        f"INSERT INTO {_table(schema)} (topic, key, payload)"  # noqa: S608 - a checked schema name
        " SELECT $1, $2, p FROM unnest($3::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n"
        " RETURNING outbox_id",
        topic,
        key,
        [encode(e).decode() for e in events],
    )
    return Staged(topic, key, tuple(events), tuple(int(r["outbox_id"]) for r in rows))


class OutboxRows(Protocol):
    """What ``Outbox`` needs of the table (``OutboxTable``; unit tests use an in-memory one)."""

    async def unsent(self, min_age_s: float, limit: int) -> list[OutboxRow]: ...

    async def unsent_before(self, keys: Sequence[bytes], before_id: int) -> list[OutboxRow]: ...

    async def mark_sent(self, outbox_ids: Sequence[int]) -> None: ...

    async def prune(self, older_than_s: float) -> int: ...


class OutboxTable:
    """The statements on one service's ``<schema>.outbox``; each owns its connection."""

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._table = _table(schema)

    async def unsent(self, min_age_s: float, limit: int) -> list[OutboxRow]:
        """Unsent rows older than ``min_age_s``, oldest first."""
        rows = await self._pool.fetch(
            f"SELECT outbox_id, topic, key, payload FROM {self._table}"  # noqa: S608
            " WHERE sent_at IS NULL AND created_at < now() - make_interval(secs => $1)"
            " ORDER BY outbox_id LIMIT $2",
            min_age_s,
            limit,
        )
        return [OutboxRow(r["outbox_id"], r["topic"], bytes(r["key"]), r["payload"]) for r in rows]

    async def unsent_before(self, keys: Sequence[bytes], before_id: int) -> list[OutboxRow]:
        """Unsent rows of these keys written before ``before_id``, oldest first."""
        rows = await self._pool.fetch(
            f"SELECT outbox_id, topic, key, payload FROM {self._table}"  # noqa: S608
            " WHERE sent_at IS NULL AND outbox_id < $1 AND key = ANY($2::bytea[]) ORDER BY outbox_id",
            before_id,
            list(keys),
        )
        return [OutboxRow(r["outbox_id"], r["topic"], bytes(r["key"]), r["payload"]) for r in rows]

    async def mark_sent(self, outbox_ids: Sequence[int]) -> None:
        await self._pool.execute(
            f"UPDATE {self._table} SET sent_at = now()"  # noqa: S608
            " WHERE outbox_id = ANY($1::bigint[]) AND sent_at IS NULL",
            list(outbox_ids),
        )

    async def prune(self, older_than_s: float) -> int:
        """Delete rows sent more than ``older_than_s`` ago; how many went."""
        status = await self._pool.execute(
            f"DELETE FROM {self._table}"  # noqa: S608
            " WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(secs => $1)",
            older_than_s,
        )
        return int(status.rsplit(" ", 1)[-1])


@dataclass
class _Group:
    """Events of one topic and key, in outbox order: they go out in one publish."""

    topic: str
    key: bytes
    events: list[BaseModel]
    outbox_ids: list[int]

    def add(self, events: Sequence[BaseModel], outbox_ids: Sequence[int]) -> None:
        self.events.extend(events)
        self.outbox_ids.extend(outbox_ids)


class Outbox:
    """Sends what ``stage`` wrote, through the service's publishers (one per topic it owns)."""

    def __init__(
        self,
        name: str,
        rows: OutboxRows,
        publishers: Sequence[Publisher],
        *,
        min_age_s: float = RELAY_MIN_AGE_S,
        retention_s: float = SENT_RETENTION_S,
        batch: int = RELAY_BATCH,
    ) -> None:
        self.name = name
        self._rows = rows
        self._publishers: Mapping[str, Publisher] = {p.topic: p for p in publishers}
        self._min_age_s = min_age_s
        self._retention_s = retention_s
        self._batch = batch

    async def send(self, *batches: Staged) -> None:
        """Publish committed batches; raises ``Unavailable`` (503) if the broker fails.

        Rows of the same key that an earlier failed publish left unsent go first, so a change
        never overtakes an older one of the same subject (an unlink its link); a row the relay
        sends too is a duplicate, which consumers drop by ``event_id``. Batches of different
        keys are published at once; batches of one key in their order.
        """
        staged = [b for b in batches if b.outbox_ids]
        if not staged:
            return
        first: dict[bytes, int] = {}
        for b in staged:
            first[b.key] = min(first.get(b.key, b.outbox_ids[0]), *b.outbox_ids)
        last = max(i for b in staged for i in b.outbox_ids)
        groups: dict[tuple[str, bytes], _Group] = {}
        for row in await self._rows.unsent_before(list(first), last):
            if row.outbox_id < first[row.key]:
                self._add_row(groups, row)
        for batch in staged:
            self._group(groups, batch.topic, batch.key).add(batch.events, batch.outbox_ids)
        await self._publish(list(groups.values()))

    async def relay(self, min_age_s: float | None = None) -> int:
        """Send rows a failed publish left behind; how many were sent. A round of the relay job.

        ``min_age_s``: leave younger rows (default: the outbox's), which may still be in the
        publish of the request that wrote them."""
        age = self._min_age_s if min_age_s is None else min_age_s
        rows = await self._rows.unsent(age, self._batch)
        OUTBOX_BACKLOG.labels(self.name).set(len(rows))
        groups: dict[tuple[str, bytes], _Group] = {}
        for row in rows:
            self._add_row(groups, row)
        await self._publish(list(groups.values()))
        return len(rows)

    async def prune(self, older_than_s: float | None = None) -> int:
        """Delete the rows sent longer ago than the retention (or ``older_than_s``); how many
        went. A round of the prune job."""
        return await self._rows.prune(self._retention_s if older_than_s is None else older_than_s)

    def jobs(self, relay_interval_s: float, prune_interval_s: float = PRUNE_EVERY_S) -> list[Job]:
        """The relay and the prune as once-per-platform jobs (``shared.jobs``)."""
        return [
            Job(f"{self.name}.outbox", relay_interval_s, self.relay, first_s=relay_interval_s),
            Job(f"{self.name}.outbox-prune", prune_interval_s, self.prune, first_s=prune_interval_s),
        ]

    @staticmethod
    def _group(groups: dict[tuple[str, bytes], _Group], topic: str, key: bytes) -> _Group:
        return groups.setdefault((topic, key), _Group(topic, key, [], []))

    @classmethod
    def _add_row(cls, groups: dict[tuple[str, bytes], _Group], row: OutboxRow) -> None:
        cls._group(groups, row.topic, row.key).add([decode(row.payload, EVENT_ADAPTER)], [row.outbox_id])

    async def _publish(self, groups: list[_Group]) -> None:
        """Each group in one publish, the groups at once; what the broker acknowledged is marked
        sent even when another group failed, then the first failure is raised."""
        if not groups:
            return
        results = await asyncio.gather(
            *(self._publishers[g.topic].send(g.events, key=g.key) for g in groups), return_exceptions=True
        )
        sent = [i for g, r in zip(groups, results, strict=True) if r is None for i in g.outbox_ids]
        if sent:
            await self._rows.mark_sent(sent)
        for result in results:
            if isinstance(result, BaseException):
                raise result

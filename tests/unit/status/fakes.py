"""In-memory collaborators of the status service, of our own making: a dict-backed store with the
same methods as ``services.status.store.Store`` (and its unit of work), the outbox table, a
recording publisher, a colour cache that can be down, a rate limiter and a clock.

They keep the rules the SQL keeps (versions, "never lower by command", expiry, one claim per
event, serials, a unit that rolls back), so the service's rules can be pinned without servers;
the integration tests hold the SQL to the same behaviour.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError

from services.status.models import Change, Dependent, HistoryRow, Person, Source, StatusRecord
from shared.errors import RateLimited, Unavailable
from shared.events import PersonRegisteredData, encode
from shared.outbox import OutboxRow, Staged

SEVERITY = {"green": 0, "yellow": 1, "red": 2}


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class _Row:
    row: OutboxRow
    created_at: datetime
    sent_at: datetime | None = None


class FakeOutboxRows:
    """``shared.outbox.OutboxRows`` over a dict, on the test's clock (the real one: the database's)."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self.rows: dict[int, _Row] = {}
        self._next = 1

    def add(self, topic: str, key: bytes, events: Sequence[BaseModel]) -> list[int]:
        ids = []
        for event in events:
            self.rows[self._next] = _Row(
                OutboxRow(self._next, topic, key, encode(event).decode()), self._clock.now()
            )
            ids.append(self._next)
            self._next += 1
        return ids

    def unsent_ids(self) -> list[int]:
        return [i for i, r in self.rows.items() if r.sent_at is None]

    async def unsent(self, min_age_s: float, limit: int) -> list[OutboxRow]:
        before = self._clock.now() - timedelta(seconds=min_age_s)
        found = [r.row for r in self.rows.values() if r.sent_at is None and r.created_at < before]
        return sorted(found, key=lambda r: r.outbox_id)[:limit]

    async def unsent_before(self, keys: Sequence[bytes], before_id: int) -> list[OutboxRow]:
        return [
            r.row
            for i, r in sorted(self.rows.items())
            if r.sent_at is None and i < before_id and r.row.key in keys
        ]

    async def mark_sent(self, outbox_ids: Sequence[int]) -> None:
        for i in outbox_ids:
            if self.rows[i].sent_at is None:
                self.rows[i].sent_at = self._clock.now()

    async def prune(self, older_than_s: float) -> int:
        before = self._clock.now() - timedelta(seconds=older_than_s)
        gone = [i for i, r in self.rows.items() if r.sent_at is not None and r.sent_at < before]
        for i in gone:
            del self.rows[i]
        return len(gone)


class RecordingPublisher:
    """A ``shared.kafka.Publisher`` that records what it sent; ``down`` answers like a lost broker."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.sent: list[tuple[bytes, list[BaseModel]]] = []
        self.down = False

    async def send(self, events: Sequence[BaseModel], key: bytes) -> None:
        if self.down:
            raise Unavailable("The event stream is unavailable; retry shortly.")
        self.sent.append((key, list(events)))

    def events(self) -> list[BaseModel]:
        return [e for _, batch in self.sent for e in batch]


class FakeCache:
    """The colour cache (``services.status.cache.ColourCache``): a dict, and a switch to be down."""

    def __init__(self) -> None:
        self.colours: dict[UUID, StatusRecord] = {}
        self.warm = False
        self.down = False

    def _reach(self) -> None:
        if self.down:
            raise RedisConnectionError("redis is down")

    async def write(self, records: Sequence[StatusRecord]) -> None:
        self._reach()
        for r in records:
            old = self.colours.get(r.person_id)
            if old is None or old.version < r.version:
                self.colours[r.person_id] = r

    async def is_warm(self) -> bool:
        self._reach()
        return self.warm

    async def mark_warm(self) -> None:
        self._reach()
        self.warm = True


class FakeLimiter:
    def __init__(self, allowed: int = 1000) -> None:
        self.allowed = allowed
        self.hits = 0

    async def hit(self, subject: str, cost: int = 1, now: float | None = None) -> None:
        self.hits += cost
        if self.hits > self.allowed:
            raise RateLimited(60)


@dataclass
class _History:
    row: HistoryRow
    alert_id: UUID | None


@dataclass
class State:
    people: dict[UUID, Person] = field(default_factory=dict)
    guardians: dict[tuple[UUID, UUID], datetime] = field(default_factory=dict)
    bindings: dict[tuple[UUID, UUID], tuple[bool, datetime]] = field(default_factory=dict)
    current: dict[UUID, StatusRecord] = field(default_factory=dict)
    history: dict[UUID, list[_History]] = field(default_factory=dict)
    withdrawn: set[UUID] = field(default_factory=set)
    serials: dict[UUID, int] = field(default_factory=dict)
    handled: set[UUID] = field(default_factory=set)
    audits: list[tuple[str, object]] = field(default_factory=list)


class FakeStore:
    """The methods of ``Store`` over dicts; a unit rolls back every change (outbox rows too) when
    its block raises."""

    def __init__(self, clock: ManualClock) -> None:
        self.state = State()
        self.outbox = FakeOutboxRows(clock)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[FakeUnit]:
        saved, rows = copy.deepcopy(self.state), copy.deepcopy(self.outbox.rows)
        try:
            yield FakeUnit(self)
        except BaseException:
            self.state, self.outbox.rows = saved, rows
            raise

    @asynccontextmanager
    async def event(self, event_id: UUID) -> AsyncIterator[FakeUnit | None]:
        async with self.unit() as unit:
            if event_id in self.state.handled:
                yield None
                return
            self.state.handled.add(event_id)
            yield unit

    async def person(self, person_id: UUID) -> Person | None:
        return self.state.people.get(person_id)

    async def people_with_id_digest(self, id_digest: str) -> list[Person]:
        return [p for p in self.state.people.values() if p.id_digest == id_digest]

    async def guards(self, guardian_id: UUID, person_id: UUID) -> bool:
        return (guardian_id, person_id) in self.state.guardians

    async def dependents_of(self, guardian_id: UUID) -> list[Dependent]:
        linked = sorted((at, p) for (g, p), at in self.state.guardians.items() if g == guardian_id)
        people = self.state.people
        return [Dependent(p, people[p].masked_name if p in people else "*") for _, p in linked]

    async def is_inspector(self, person_id: UUID) -> bool:
        return any(bound for (p, _), (bound, _) in self.state.bindings.items() if p == person_id)

    async def current(self, person_id: UUID) -> StatusRecord | None:
        return self.state.current.get(person_id)

    async def expiring(self, now: datetime, limit: int) -> list[tuple[UUID, int]]:
        due = [
            r
            for r in self.state.current.values()
            if r.valid_until is not None and r.valid_until <= now and r.colour != "green"
        ]
        return [(r.person_id, r.version) for r in sorted(due, key=lambda r: r.valid_until or now)[:limit]]

    async def statuses_after(self, after: UUID | None, limit: int) -> list[StatusRecord]:
        ordered = sorted(self.state.current.values(), key=lambda r: r.person_id)
        return [r for r in ordered if after is None or r.person_id > after][:limit]

    async def history(self, person_id: UUID) -> list[HistoryRow]:
        return [h.row for h in self.state.history.get(person_id, [])]

    async def paper_serial(self, person_id: UUID) -> int | None:
        return self.state.serials.get(person_id)

    async def audit_history_read(self, reader_id: UUID, person_id: UUID, at: datetime) -> None:
        self.state.audits.append(("history", (reader_id, person_id)))

    async def audit_verify(
        self, inspector_id: UUID, person_id: UUID | None, token_kind: str | None, result: str, at: datetime
    ) -> None:
        self.state.audits.append(("verify", result))

    async def audit_lookup(
        self, caller_id: UUID, id_digest: str | None, person_id: UUID | None, result: str, at: datetime
    ) -> None:
        self.state.audits.append(("lookup", result))


class FakeUnit:
    """``store_unit.Unit`` over the fake store's dicts."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    @property
    def _s(self) -> State:
        return self._store.state

    async def stage(self, topic: str, key: bytes, events: Sequence[BaseModel]) -> Staged:
        return Staged(topic, key, tuple(events), tuple(self._store.outbox.add(topic, key, events)))

    async def record_person(self, data: PersonRegisteredData, at: datetime) -> None:
        old = self._s.people.get(data.person_id)
        self._s.people[data.person_id] = Person(
            data.person_id,
            data.id_kind,
            data.id_digest,
            data.name_digest,
            data.birth_date,
            data.masked_name,
            data.masked_id,
            old.registered_at if old else at,
        )

    async def link_guardian(self, guardian_id: UUID, person_id: UUID, relation: str, at: datetime) -> None:
        self._s.guardians.setdefault((guardian_id, person_id), at)

    async def unlink_guardian(self, guardian_id: UUID, person_id: UUID) -> None:
        self._s.guardians.pop((guardian_id, person_id), None)

    async def set_binding(self, person_id: UUID, venue_id: UUID, bound: bool, at: datetime) -> None:
        old = self._s.bindings.get((person_id, venue_id))
        if old is None or old[1] <= at:
            self._s.bindings[(person_id, venue_id)] = (bound, at)

    async def apply_change(self, change: Change, now: datetime, *, force: bool) -> StatusRecord | None:
        old = self._s.current.get(change.person_id)
        if old is not None and not force:
            newer = old.effective_at < change.effective_at
            not_lower = SEVERITY[change.colour] >= SEVERITY[old.colour]
            lapsed = old.valid_until is not None and old.valid_until <= now
            if not (newer and (not_lower or lapsed)):
                return None
        record = StatusRecord(
            change.person_id,
            change.colour,
            change.reason,
            old.version + 1 if old else 1,
            change.valid_until,
            max(old.effective_at, change.effective_at) if old else change.effective_at,
            now,
        )
        self._record(record, now, change.source, change.alert_id)
        return record

    async def expire(self, person_id: UUID, version: int, now: datetime) -> StatusRecord | None:
        old = self._s.current.get(person_id)
        if old is None or old.version != version or old.colour == "green" or not old.expired(now):
            return None
        assert old.valid_until is not None
        record = StatusRecord(
            person_id,
            "green",
            "none",
            version + 1,
            None,
            max(old.effective_at, old.valid_until),
            old.valid_until,
        )
        self._record(record, now, Source.EXPIRY, None)
        return record

    async def alert_withdrawn(self, alert_id: UUID) -> bool:
        return alert_id in self._s.withdrawn

    async def revert_alert(
        self, alert_id: UUID, by: UUID, effective_at: datetime, now: datetime
    ) -> list[StatusRecord]:
        self._s.withdrawn.add(alert_id)
        restored = []
        for person_id, old in list(self._s.current.items()):
            rows = self._s.history.get(person_id, [])
            last = next((h for h in rows if h.row.version == old.version), None)
            if last is None or last.alert_id != alert_id or last.row.source != Source.COMMAND:
                continue
            before = [h.row for h in rows if h.row.version < old.version and h.alert_id != alert_id]
            prior = before[-1] if before else None
            lapsed = prior is None or (prior.valid_until is not None and prior.valid_until <= now)
            record = StatusRecord(
                person_id,
                "green" if lapsed or prior is None else prior.colour,
                "none" if lapsed or prior is None else prior.reason,
                old.version + 1,
                None if lapsed or prior is None else prior.valid_until,
                max(old.effective_at, effective_at),
                now,
            )
            self._record(record, now, Source.REVERT, alert_id)
            restored.append(record)
        return restored

    async def next_paper_serial(self, person_id: UUID, issued_by: UUID, now: datetime) -> int:
        self._s.serials[person_id] = self._s.serials.get(person_id, 0) + 1
        return self._s.serials[person_id]

    def _record(self, record: StatusRecord, now: datetime, source: Source, alert_id: UUID | None) -> None:
        self._s.current[record.person_id] = record
        row = HistoryRow(
            record.colour, record.reason, record.version, record.valid_until, record.effective_at, now, source
        )
        self._s.history.setdefault(record.person_id, []).append(_History(row, alert_id))

"""In-memory collaborators of the registry's rules: a dict-backed store with the methods of
``services.registry.store.Store`` (the same constraints, as typed outcomes or the same problems),
and a publisher that records what it was asked to send.

``unit()`` works on a copy of the tables and keeps it only when the block ends without raising,
so a test sees what a refused request would have left half-written.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from uuid import UUID

from pydantic import BaseModel

from services.registry.errors import AccountGone, VenueAlreadyAdministered, VenueNameTaken
from services.registry.models import (
    BoundVenue,
    Category,
    Dependent,
    Guardian,
    Inspector,
    Person,
    Venue,
)
from shared.errors import Unavailable
from shared.events import IdKind, encode
from shared.outbox import OutboxRow, Staged

NOW = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)


@dataclass
class Tables:
    people: dict[UUID, Person] = field(default_factory=dict)
    digests: dict[str, UUID] = field(default_factory=dict)
    roles: set[tuple[UUID, str]] = field(default_factory=set)
    venues: dict[UUID, Venue] = field(default_factory=dict)
    bindings: dict[tuple[UUID, UUID], datetime] = field(default_factory=dict)
    # (guardian, person) -> (relation, state, linked_at)
    links: dict[tuple[UUID, UUID], tuple[str, str, datetime]] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    sent: set[int] = field(default_factory=set)
    last_id: int = 0


class _Topic:
    def __init__(self, db: FakeStore) -> None:
        self._db = db

    @property
    def t(self) -> Tables:
        return self._db.tables


class FakePeople(_Topic):
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
        if id_digest in self.t.digests:
            return None
        person = Person(person_id, id_kind, masked_id, masked_name, name_digest, birth_date, password_hash)
        self.t.people[person_id] = person
        self.t.digests[id_digest] = person_id
        return person

    async def by_digest(self, id_digest: str, *, for_update: bool = False) -> Person | None:
        found = self.t.digests.get(id_digest)
        return None if found is None else self.t.people[found]

    async def accounts_by_digests(self, id_digests: Sequence[str]) -> list[Person]:
        found = [await self.by_digest(d) for d in id_digests]
        return [p for p in found if p is not None and p.password_hash is not None]

    async def by_id(self, person_id: UUID) -> Person | None:
        return self.t.people.get(person_id)

    async def open_account(self, person_id: UUID, phone: str, password_hash: str) -> bool:
        person = self.t.people[person_id]
        if person.password_hash is not None:
            return False
        self.t.people[person_id] = replace(person, password_hash=password_hash)
        return True

    async def roles_of(self, person_id: UUID) -> list[str]:
        return sorted(role for who, role in self.t.roles if who == person_id)

    async def grant_role(self, person_id: UUID, role: str, granted_by: UUID | None) -> bool:
        new = (person_id, role) not in self.t.roles
        self.t.roles.add((person_id, role))
        return new


class FakeVenues(_Topic):
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
        if administrator_id not in self.t.people:
            raise AccountGone
        others = self.t.venues.values()
        if any(v.declaration_code == declaration_code for v in others):
            return None
        if any(v.administrator_id == administrator_id for v in others):
            raise VenueAlreadyAdministered
        if any((v.region_code, v.name) == (region_code, name) for v in others):
            raise VenueNameTaken
        venue = Venue(
            venue_id, region_code, name, address, category, administrator_id, declaration_code, 1, NOW
        )
        self.t.venues[venue_id] = venue
        return venue

    async def by_id(self, venue_id: UUID) -> Venue | None:
        return self.t.venues.get(venue_id)

    async def of_administrator(self, person_id: UUID) -> Venue | None:
        return next((v for v in self.t.venues.values() if v.administrator_id == person_id), None)

    async def by_declaration_code(self, code: str) -> Venue | None:
        return next((v for v in self.t.venues.values() if v.declaration_code == code), None)

    async def by_region_name(self, region_code: str, name: str) -> Venue | None:
        return next(
            (v for v in self.t.venues.values() if (v.region_code, v.name) == (region_code, name)), None
        )

    async def set_declaration_code(self, venue_id: UUID, code: str) -> bool:
        if any(v.declaration_code == code for v in self.t.venues.values()):
            return False
        self.t.venues[venue_id] = replace(self.t.venues[venue_id], declaration_code=code)
        return True

    async def rename(self, venue_id: UUID, name: str) -> Venue:
        venue = self.t.venues[venue_id]
        if await self.by_region_name(venue.region_code, name) is not None:
            raise VenueNameTaken
        self.t.venues[venue_id] = replace(venue, name=name)
        return self.t.venues[venue_id]

    async def reissue_poster(self, venue_id: UUID) -> int:
        venue = self.t.venues[venue_id]
        self.t.venues[venue_id] = replace(venue, poster_version=venue.poster_version + 1)
        return venue.poster_version + 1

    async def bind_inspector(self, venue_id: UUID, person_id: UUID) -> bool:
        if person_id not in self.t.people:
            raise AccountGone
        if (venue_id, person_id) in self.t.bindings:
            return False
        self.t.bindings[(venue_id, person_id)] = NOW
        return True

    async def unbind_inspector(self, venue_id: UUID, person_id: UUID) -> bool:
        return self.t.bindings.pop((venue_id, person_id), None) is not None

    async def is_inspector(self, venue_id: UUID, person_id: UUID) -> bool:
        return (venue_id, person_id) in self.t.bindings

    async def inspectors_of(self, venue_id: UUID) -> list[Inspector]:
        return [
            Inspector(p, self.t.people[p].masked_name, at)
            for (v, p), at in self.t.bindings.items()
            if v == venue_id
        ]

    async def venues_of_inspector(self, person_id: UUID) -> list[BoundVenue]:
        found = []
        for (venue_id, who), at in self.t.bindings.items():
            if who == person_id:
                v = self.t.venues[venue_id]
                found.append(
                    BoundVenue(
                        v.venue_id, v.name, v.region_code, v.poster_version, at, v.administrator_id == who
                    )
                )
        return found


class FakeFamily(_Topic):
    async def link(self, guardian_id: UUID, person_id: UUID, relation: str, state: str) -> bool:
        if (guardian_id, person_id) in self.t.links:
            return False
        self.t.links[(guardian_id, person_id)] = (relation, state, NOW)
        return True

    async def accept(self, guardian_id: UUID, person_id: UUID) -> bool:
        found = self.t.links.get((guardian_id, person_id))
        if found is None or found[1] != "pending":
            return False
        self.t.links[(guardian_id, person_id)] = (found[0], "active", found[2])
        return True

    async def end(self, guardian_id: UUID, person_id: UUID) -> str | None:
        found = self.t.links.pop((guardian_id, person_id), None)
        return None if found is None else found[1]

    async def dependents_of(self, guardian_id: UUID) -> list[Dependent]:
        return [d for (g, p) in self.t.links if g == guardian_id and (d := await self.dependent(g, p))]

    async def dependent(self, guardian_id: UUID, person_id: UUID) -> Dependent | None:
        found = self.t.links.get((guardian_id, person_id))
        if found is None:
            return None
        p = self.t.people[person_id]
        return Dependent(person_id, p.masked_name, p.masked_id, found[0], p.birth_date, found[2], found[1])

    async def guardians_of(self, person_id: UUID) -> list[Guardian]:
        return [g for (gid, p) in self.t.links if p == person_id and (g := await self.guardian(gid, p))]

    async def guardian(self, guardian_id: UUID, person_id: UUID) -> Guardian | None:
        found = self.t.links.get((guardian_id, person_id))
        if found is None:
            return None
        g = self.t.people[guardian_id]
        return Guardian(guardian_id, g.masked_name, found[0], found[2], found[1])


class FakeOutboxRows(_Topic):
    """``shared.outbox.OutboxRows`` over the tables: what ``Outbox`` sends, relays and prunes."""

    async def unsent(self, min_age_s: float, limit: int) -> list[OutboxRow]:
        return [r for i, r in sorted(self.t.outbox.items()) if i not in self.t.sent][:limit]

    async def unsent_before(self, keys: Sequence[bytes], before_id: int) -> list[OutboxRow]:
        return [
            r for r in await self.unsent(0, len(self.t.outbox)) if r.outbox_id < before_id and r.key in keys
        ]

    async def mark_sent(self, outbox_ids: Sequence[int]) -> None:
        self.t.sent.update(outbox_ids)

    async def prune(self, older_than_s: float) -> int:
        gone = [i for i in self.t.outbox if i in self.t.sent]
        for i in gone:
            del self.t.outbox[i]
        return len(gone)


class FakeStore:
    """``Store`` and its ``Unit`` in one: the same topics; a unit rolls back when it raises."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.people = FakePeople(self)
        self.venues = FakeVenues(self)
        self.family = FakeFamily(self)
        self.outbox = FakeOutboxRows(self)

    async def stage(self, topic: str, key: bytes, events: Sequence[BaseModel]) -> Staged:
        ids = list(range(self.tables.last_id + 1, self.tables.last_id + 1 + len(events)))
        self.tables.last_id += len(events)
        for outbox_id, event in zip(ids, events, strict=True):
            self.tables.outbox[outbox_id] = OutboxRow(outbox_id, topic, key, encode(event).decode())
        return Staged(topic, key, tuple(events), tuple(ids))

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[FakeStore]:
        before = copy.deepcopy(self.tables)
        try:
            yield self
        except BaseException:
            self.tables = before
            raise


@dataclass
class RecordingPublisher:
    """``shared.kafka.Publisher`` without a broker: what was sent, keyed; ``down`` answers 503."""

    topic: str
    sent: list[tuple[bytes, BaseModel]] = field(default_factory=list)
    down: bool = False

    async def send(self, events: Sequence[BaseModel], key: bytes) -> None:
        if self.down:
            raise Unavailable("The broker is down (a test's publisher).")
        self.sent.extend((key, e) for e in events)

    def types(self) -> list[str]:
        return [str(getattr(e, "type", "")) for _, e in self.sent]

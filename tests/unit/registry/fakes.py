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

from services.registry.errors import (
    AccountGone,
    HandoverPending,
    RecipientAdministers,
    VenueAlreadyAdministered,
    VenueNameTaken,
)
from services.registry.models import BoundVenue, Category, Dependent, Guardian, Inspector, Person, Venue
from services.registry.models_handovers import Handover, HandoverKind, HandoverState
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
    # venue -> the highest poster version downloaded (issue 16's "never printed")
    printed: dict[UUID, int] = field(default_factory=dict)
    phones: dict[UUID, str] = field(default_factory=dict)
    handovers: dict[UUID, Handover] = field(default_factory=dict)
    sent: set[int] = field(default_factory=set)
    last_id: int = 0
    # person -> (registered_by, registered_at): the audit of assisted registrations
    assisted: dict[UUID, tuple[UUID, datetime]] = field(default_factory=dict)


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
        if phone is not None:
            self.t.phones[person_id] = phone
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
        if any(
            (v.region_code, v.name, v.address or "") == (region_code, name, address or "") for v in others
        ):
            raise VenueNameTaken
        venue = Venue(
            venue_id, region_code, name, address, category, administrator_id, declaration_code, 1, NOW
        )
        self.t.venues[venue_id] = venue
        return venue

    async def by_id(self, venue_id: UUID) -> Venue | None:
        return self.t.venues.get(venue_id)

    async def mark_printed(self, venue_id: UUID, poster_version: int) -> bool:
        if self.t.printed.get(venue_id, 0) >= poster_version:
            return False
        self.t.printed[venue_id] = poster_version
        return True

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


class FakeAssisted(_Topic):
    async def inspects_any_venue(self, person_id: UUID) -> bool:
        return any(who == person_id for _, who in self.t.bindings)

    async def record(self, person_id: UUID, registered_by: UUID) -> datetime:
        assert person_id in self.t.people  # the table's foreign key
        self.t.assisted[person_id] = (registered_by, NOW)
        return NOW


class FakeHandovers(_Topic):
    """``store_handovers.HandoverStore``: one pending offer a venue, one venue an administrator."""

    async def insert(
        self,
        *,
        handover_id: UUID,
        venue_id: UUID,
        kind: HandoverKind,
        from_id: UUID,
        to_id: UUID,
        requested_by: UUID,
        state: HandoverState,
        now: datetime,
        expires_at: datetime,
    ) -> Handover:
        if state == "pending" and any(
            h.venue_id == venue_id and h.state == "pending" for h in self.t.handovers.values()
        ):
            raise HandoverPending
        people = self.t.people
        found = Handover(
            handover_id,
            venue_id,
            self.t.venues[venue_id].name,
            kind,
            from_id,
            people[from_id].masked_name,
            to_id,
            people[to_id].masked_name,
            requested_by,
            state,
            now,
            expires_at,
            None if state == "pending" else now,
        )
        self.t.handovers[handover_id] = found
        return found

    async def by_id(self, handover_id: UUID, *, for_update: bool = False) -> Handover | None:
        return self.t.handovers.get(handover_id)

    async def set_state(self, handover_id: UUID, state: HandoverState, now: datetime) -> None:
        self.t.handovers[handover_id] = replace(self.t.handovers[handover_id], state=state, decided_at=now)

    async def close_pending(self, venue_id: UUID, now: datetime, *, expired_only: bool) -> None:
        for h in list(self.t.handovers.values()):
            if h.venue_id == venue_id and h.state == "pending" and (not expired_only or h.expires_at <= now):
                await self.set_state(h.handover_id, "expired" if h.expires_at <= now else "cancelled", now)

    async def pending_for(self, person_id: UUID, now: datetime) -> list[Handover]:
        return [
            h
            for h in self.t.handovers.values()
            if h.to_id == person_id and h.state == "pending" and h.expires_at > now
        ]

    async def of_venue(self, venue_id: UUID) -> list[Handover]:
        return sorted(
            (h for h in self.t.handovers.values() if h.venue_id == venue_id),
            key=lambda h: h.created_at,
            reverse=True,
        )

    async def administrator_of(self, venue_id: UUID, *, for_update: bool = False) -> UUID | None:
        venue = self.t.venues.get(venue_id)
        return None if venue is None else venue.administrator_id

    async def set_administrator(self, venue_id: UUID, person_id: UUID) -> None:
        if any(v.administrator_id == person_id for v in self.t.venues.values()):
            raise RecipientAdministers("That account already administers a venue; one holds one.")
        self.t.venues[venue_id] = replace(self.t.venues[venue_id], administrator_id=person_id)

    async def accounts_with_phone(self, phone: str) -> list[UUID]:
        return [
            p for p, number in self.t.phones.items() if number == phone and self.t.people[p].password_hash
        ][:2]

    async def is_account(self, person_id: UUID) -> bool:
        person = self.t.people.get(person_id)
        return person is not None and person.password_hash is not None

    async def administers(self, person_id: UUID) -> bool:
        return any(v.administrator_id == person_id for v in self.t.venues.values())


class FakeStore:
    """``Store`` and its ``Unit`` in one: the same topics; a unit rolls back when it raises."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.people = FakePeople(self)
        self.venues = FakeVenues(self)
        self.family = FakeFamily(self)
        self.outbox = FakeOutboxRows(self)
        self.assisted = FakeAssisted(self)

        self.handovers = FakeHandovers(self)

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

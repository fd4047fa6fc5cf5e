"""The scan's reads from process memory: venues and families, loaded lazily, kept fresh by polling.

A scan needs the venue of its poster and the caller's family (the caller and their
dependents, with masked identities); an inspector's reverse scan needs the venue's inspectors
and the person's highest paper-code serial. Reading them from Postgres was one of a scan's
five round trips; here they come from memory, and Postgres is read only on a miss.

What is loaded at start, and why the rest lazily: at start each process loads venues and
people up to the bounds below (``load``): in a city-sized deployment that is the whole read
model, and the first scan of each person does not wait for Postgres. A province has millions
of venues and 100 M people: every venue at ~300 B of Python objects is ~1 GB per process,
every family far more, and a replica sees only the venues and people that scan at its doors.
So each map is an LRU of at most ``MAX_VENUES`` / ``MAX_FAMILIES`` entries (~30 MB and
~100 MB at their sizes; what start loads there is an arbitrary part, the rest comes on a miss
with one small query).

Why polling: the registry events reach Postgres through the checkin consumer, which an HTTP
replica may not run (``VENUECODE_CHECKIN_READMODEL_CONSUMER=false``). Every read-model
write also notes the venue or family it touched in ``checkin.changes`` (same transaction);
each process reads the rows newer than its last poll (with an overlap of ``OVERLAP``, so a
transaction that committed late is not missed) every ``poll_s``, forgets those entries and reads
them again (those it held, and new ones while its maps have room: a person registered after
start is in memory before their first scan, as one loaded at start is).
A change is therefore seen within ``poll_s`` of its commit (an inspector's binding or
unbinding is noted as a change of its venue, a new paper-code serial as one of the person's
family: a revoked card is refused within ``poll_s`` of status's event reaching this service).
A poster newer than the cached venue reloads that venue at once (it was just reissued);
an unknown venue is remembered as unknown until its ``venue.registered`` is noted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Generic, TypeVar
from uuid import UUID

from services.checkin.models import InspectionContext, PersonView, ScanContext, Venue
from services.checkin.store import Store
from shared.jobs import Job

log = logging.getLogger("venuecode.checkin")

MAX_VENUES = 100_000
MAX_FAMILIES = 200_000
# Rows are re-read this far back: a read-model transaction takes milliseconds, so one that
# committed after a later-started one is still seen.
OVERLAP = timedelta(seconds=5)
# checkin.changes keeps this much; older rows were read by every live process long ago.
KEEP = timedelta(hours=1)

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> tuple[bool, V | None]:
        if key not in self._items:
            return False, None
        self._items.move_to_end(key)
        return True, self._items[key]

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def forget(self, key: K) -> None:
        self._items.pop(key, None)

    def keep(self, keys: Sequence[K]) -> list[K]:
        """Of ``keys``, those held now, and those not held while room remains."""
        room = self._size - len(self._items)
        kept: list[K] = []
        for key in keys:
            if key in self._items:
                kept.append(key)
            elif room > 0:
                kept.append(key)
                room -= 1
        return kept


class Memory:
    def __init__(self, store: Store, poll_s: float = 0.5) -> None:
        self._store = store
        self._poll_s = poll_s
        self._venues: Lru[UUID, Venue | None] = Lru(MAX_VENUES)
        self._families: Lru[UUID, tuple[PersonView, ...]] = Lru(MAX_FAMILIES)
        self._inspectors: Lru[UUID, frozenset[UUID]] = Lru(MAX_VENUES)
        self._serials: Lru[UUID, int | None] = Lru(MAX_FAMILIES)
        self._since: datetime | None = None
        # The changes the last poll read (by number): what the overlap brings again.
        self._seen: set[int] = set()

    async def scan_context(
        self, venue_id: UUID, caller: UUID, person_ids: Sequence[UUID] | None, poster_version: int = 0
    ) -> ScanContext | None:
        """``Store.scan_context`` from memory: the venue and the wanted people (None: the caller
        and all their dependents); None for an unknown venue."""
        venue = await self._venue(venue_id, poster_version)
        if venue is None:
            return None
        family = await self._family(caller)
        if person_ids is None:
            return ScanContext(venue, family)
        by_id = {p.person_id: p for p in family}
        people = tuple(by_id.get(p) or PersonView(p, "", "", False, None) for p in person_ids)
        return ScanContext(venue, people)

    async def people_of(self, caller: UUID) -> list[PersonView]:
        return list(await self._family(caller))

    async def inspection_context(
        self, venue_id: UUID, inspector: UUID, person_id: UUID | None
    ) -> InspectionContext:
        """Whether ``inspector`` is bound to the venue; with a ``person_id`` (a genuine code) and
        a binding, the person as their own family's first row and their paper-code serial."""
        known, inspectors = self._inspectors.get(venue_id)
        if not known or inspectors is None:
            inspectors = await self._store.inspectors_of(venue_id)
            self._inspectors.put(venue_id, inspectors)
        if inspector not in inspectors or person_id is None:
            return InspectionContext(inspector in inspectors, None)
        person = (await self._family(person_id))[0]
        known, serial = self._serials.get(person_id)
        if not known:
            serial = await self._store.paper_serial(person_id)
            self._serials.put(person_id, serial)
        return InspectionContext(True, person, serial)

    async def _venue(self, venue_id: UUID, poster_version: int) -> Venue | None:
        known, venue = self._venues.get(venue_id)
        if known and (venue is None or poster_version <= venue.poster_version):
            return venue
        venue = await self._store.venue(venue_id)
        self._venues.put(venue_id, venue)
        return venue

    async def _family(self, caller: UUID) -> tuple[PersonView, ...]:
        known, family = self._families.get(caller)
        if known and family is not None:
            return family
        family = tuple(await self._store.people_of(caller))
        self._families.put(caller, family)
        return family

    async def refresh(self) -> int:
        """Forget what changed since the last poll; how many changes were read."""
        changes, now = await self._store.changes_since(None if self._since is None else self._since - OVERLAP)
        if self._since is None:
            # The first poll: nothing was cached before it, so nothing to forget.
            self._since = now
            return 0
        self._since = now
        # A change inside the overlap was read by the last poll already: it is not read again.
        seen, self._seen = self._seen, {seq for seq, _, _ in changes}
        changes = [(seq, kind, key) for seq, kind, key in changes if seq not in seen]
        venues = list(dict.fromkeys(key for _, kind, key in changes if kind == "venue"))
        families = list(dict.fromkeys(key for _, kind, key in changes if kind != "venue"))
        # What to read again at once (below): what was in memory, and new entries while there is
        # room. Decided before forgetting, which happens before any await: a scan from now on
        # never sees what changed.
        venues_again = self._venues.keep(venues)
        families_again = self._families.keep(families)
        for key in venues:
            self._venues.forget(key)
            self._inspectors.forget(key)
        for key in families:
            self._families.forget(key)
            self._serials.forget(key)
        await self._reload(venues_again, families_again)
        return len(changes)

    async def _reload(self, venues: list[UUID], families: list[UUID]) -> None:
        """Read changed entries again in one query each, instead of on each one's next scan: a
        person registered after start scans from memory, as one loaded at start does (the first
        scan of every new person was a Postgres round trip, ~0.2 ms of this process's CPU)."""
        if venues:
            for venue, inspectors in await self._store.venues_of(venues):
                self._venues.put(venue.venue_id, venue)
                self._inspectors.put(venue.venue_id, inspectors)
        if families:
            for family, serial in await self._store.families_of(families):
                self._families.put(family[0].person_id, family)
                self._serials.put(family[0].person_id, serial)

    async def load(self) -> None:
        """Fill the copies up to their bounds (at start, after the first ``refresh``: a change
        committed while loading is read by the next poll and forgotten)."""
        for venue, inspectors in await self._store.venues_to_load(MAX_VENUES):
            self._venues.put(venue.venue_id, venue)
            self._inspectors.put(venue.venue_id, inspectors)
        for family, serial in await self._store.families_to_load(MAX_FAMILIES):
            self._families.put(family[0].person_id, family)
            self._serials.put(family[0].person_id, serial)

    def _forget_all(self) -> None:
        self._venues = Lru(MAX_VENUES)
        self._families = Lru(MAX_FAMILIES)
        self._inspectors = Lru(MAX_VENUES)
        self._serials = Lru(MAX_FAMILIES)

    async def run(self) -> None:
        """Poll until cancelled; a failed poll forgets everything (a change may have been missed)."""
        while True:
            try:
                await self.refresh()
            except Exception:
                log.warning("read-model poll failed; forgetting the in-process copies", exc_info=True)
                self._forget_all()
            await asyncio.sleep(self._poll_s)


def pruning_job(store: Store) -> Job:
    """Dropping the changes every live process has read: a round every quarter of ``KEEP``, on
    one replica at a time (``shared.jobs``), not on every pod."""
    return Job("checkin.changes", KEEP.total_seconds() / 4, lambda: store.forget_changes_older_than(KEEP))


@contextlib.asynccontextmanager
async def polling(memory: Memory) -> AsyncIterator[Memory]:
    """Load ``memory`` and run its poll for the life of the block."""
    await memory.refresh()
    await memory.load()
    task = asyncio.get_running_loop().create_task(memory.run())
    try:
        yield memory
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

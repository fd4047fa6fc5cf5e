"""In-memory collaborators of the checkin service: the store's reads, the cache, the publisher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from services.checkin.cache import CHECKIN_CAPS, CacheDown, CheckinCache, Claim
from services.checkin.memory import Memory
from services.checkin.models import PersonView, ScanResult, Venue, result_to_json
from services.checkin.service import CheckinService
from shared.colours import GREEN, UNKNOWN, CachedColour
from shared.errors import RateLimited


class Tables:
    """The store's reads, over dicts of our own; counts every read."""

    def __init__(self) -> None:
        self.venues: dict[UUID, Venue] = {}
        self.families: dict[UUID, list[PersonView]] = {}
        self.inspectors: dict[UUID, set[UUID]] = {}
        self.serials: dict[UUID, int] = {}
        self.changes: list[tuple[datetime, str, UUID]] = []
        self.clock = datetime(2026, 12, 6, tzinfo=UTC)
        self.reads = 0

    async def venue(self, venue_id: UUID) -> Venue | None:
        self.reads += 1
        return self.venues.get(venue_id)

    async def people_of(self, caller: UUID) -> list[PersonView]:
        self.reads += 1
        return self.families.get(caller, [PersonView(caller, "", "", True, None)])

    async def inspectors_of(self, venue_id: UUID) -> frozenset[UUID]:
        self.reads += 1
        return frozenset(self.inspectors.get(venue_id, ()))

    async def paper_serial(self, person_id: UUID) -> int | None:
        self.reads += 1
        return self.serials.get(person_id)

    async def venues_to_load(self, limit: int) -> list[tuple[Venue, frozenset[UUID]]]:
        self.reads += 1
        venues = list(self.venues.values())[:limit]
        return [(v, frozenset(self.inspectors.get(v.venue_id, ()))) for v in venues]

    async def families_to_load(self, limit: int) -> list[tuple[tuple[PersonView, ...], int | None]]:
        self.reads += 1
        return [(tuple(f), self.serials.get(p)) for p, f in list(self.families.items())[:limit]]

    async def venues_of(self, venue_ids: list[UUID]) -> list[tuple[Venue, frozenset[UUID]]]:
        self.reads += 1
        found = [self.venues[v] for v in venue_ids if v in self.venues]
        return [(v, frozenset(self.inspectors.get(v.venue_id, ()))) for v in found]

    async def families_of(self, person_ids: list[UUID]) -> list[tuple[tuple[PersonView, ...], int | None]]:
        self.reads += 1
        return [(tuple(self.families[p]), self.serials.get(p)) for p in person_ids if p in self.families]

    async def changes_since(self, since: datetime | None) -> tuple[list[tuple[int, str, UUID]], datetime]:
        if since is None:
            return [], self.clock
        return [
            (seq, kind, key) for seq, (at, kind, key) in enumerate(self.changes) if at >= since
        ], self.clock

    def change(self, kind: str, key: UUID) -> None:
        self.clock += timedelta(seconds=1)
        self.changes.append((self.clock, kind, key))


class Cache(CheckinCache):
    """CheckinCache's contract over dicts: a claim per (caller, key) that a loser waits on, the
    caps counted per person and window, colours, and who is inside. ``down``: every call fails
    as a Redis outage does (``CacheDown`` where the real one raises it, silence where it swallows)."""

    def __init__(self) -> None:  # no Redis: every method below is our own
        self.down = False
        self.colour_of: dict[UUID, CachedColour] = {}
        self.counts: dict[tuple[str, int, int], int] = {}
        self.claims: dict[tuple[UUID, str], dict[str, Any] | None] = {}
        self.answered: dict[tuple[UUID, str], asyncio.Event] = {}
        self.visits: dict[tuple[UUID, UUID], float] = {}

    def _check(self) -> None:
        if self.down:
            raise CacheDown

    def _count(self, person: UUID, now: float) -> RateLimited | None:
        refused = None
        for window in CHECKIN_CAPS:
            slot = (str(person), window.seconds, int(now // window.seconds))
            self.counts[slot] = self.counts.get(slot, 0) + 1
            if self.counts[slot] > window.limit and refused is None:
                refused = RateLimited(window.seconds, f"at most {window.limit} in {window.seconds} s")
        return refused

    async def claim(
        self, caller: UUID, key: str, person_ids: Sequence[UUID] = (), now: float | None = None
    ) -> Claim:
        self._check()
        refusals = [self._count(p, now or 0.0) for p in person_ids]
        colours = {p: self.colour_of.get(p, GREEN) for p in person_ids}
        if (caller, key) not in self.claims:
            self.claims[caller, key] = None
            self.answered[caller, key] = asyncio.Event()
            refused = next((r for r in refusals if r is not None), None)
            return Claim(owned=True, marker=b"ours", colours=colours, refused=refused)
        await self.answered[caller, key].wait()  # the loser waits for the winner's answer
        return Claim(owned=False, answer=self.claims[caller, key])

    async def release(self, caller: UUID, key: str, marker: bytes, attempted_at: float | None = None) -> None:
        self.claims.pop((caller, key), None)

    async def colours(self, person_ids: Sequence[UUID]) -> dict[UUID, CachedColour]:
        if self.down:
            return dict.fromkeys(person_ids, UNKNOWN)
        return {p: self.colour_of.get(p, GREEN) for p in person_ids}

    async def enter(
        self,
        venue_id: UUID,
        entries: dict[UUID, float],
        answer: tuple[UUID, str, ScanResult] | None = None,
    ) -> None:
        await asyncio.sleep(0)  # written after the answer, as Redis does
        if self.down:
            return
        self.visits.update({(venue_id, p): at for p, at in entries.items()})
        if answer is not None:
            caller, key, result = answer
            self.claims[caller, key] = result_to_json(result)
            self.answered[caller, key].set()

    async def aclose(self) -> None:
        pass  # no connections of our own

    async def inside(self, venue_id: UUID, person_ids: Sequence[UUID], now: float) -> list[UUID]:
        self._check()
        return [p for p in person_ids if (venue_id, p) in self.visits]

    async def everyone_inside(self, venue_id: UUID, now: float) -> AsyncIterator[list[UUID]]:
        self._check()
        yield [p for v, p in self.visits if v == venue_id]

    async def leave(self, venue_id: UUID, person_ids: Sequence[UUID]) -> None:
        for p in person_ids:
            self.visits.pop((venue_id, p), None)


class Sent:
    """The publisher: every batch of events with its key, in order."""

    def __init__(self) -> None:
        self.batches: list[tuple[bytes, list[BaseModel]]] = []

    async def send(self, events: Sequence[BaseModel], key: bytes) -> None:
        self.batches.append((key, list(events)))

    @property
    def events(self) -> list[BaseModel]:
        return [e for _, batch in self.batches for e in batch]


async def memory_of(tables: Tables) -> Memory:
    memory = Memory(tables)  # type: ignore[arg-type]
    await memory.refresh()
    return memory


async def service_of(tables: Tables, cache: Cache, sent: Sent, signer: Any) -> CheckinService:
    return CheckinService(tables, await memory_of(tables), cache, signer, sent)  # type: ignore[arg-type]

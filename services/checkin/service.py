"""The check-in rules: venue-code scans (self and family), inspector reverse scans, check-outs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from pydantic import BaseModel

from services.checkin.cache import CacheDown, CheckinCache, Claim
from services.checkin.errors import (
    ExpiredHealthCode,
    FeverNotAcknowledged,
    NotAnInspector,
    NotVenueStaff,
    NotYourDependent,
    OutdatedPoster,
    RevokedPaperCode,
    ScanInProgress,
    UnknownVenue,
    VisitsUnavailable,
)
from services.checkin.memory import Memory
from services.checkin.models import (
    Checkout,
    InspectionContext,
    PersonView,
    RecordedCheckin,
    ScanContext,
    ScanOutcome,
    ScanResult,
    Venue,
    result_from_json,
)
from services.checkin.scantime import scan_time
from services.checkin.store import Store
from shared.colours import UNKNOWN, CachedColour
from shared.errors import InvalidValue, Problem, RateLimited, Unavailable
from shared.events import (
    CheckinMethod,
    CheckinRecorded,
    CheckinRecordedData,
    CheckoutRecorded,
    CheckoutRecordedData,
    TemperatureBand,
)
from shared.ids import uuid7
from shared.tokens import HealthCodeClaim, InvalidToken, TokenSigner, VenueClaim

Clock = Callable[[], datetime]

# Fixed namespace of deterministic check-in ids: uuid5(namespace, caller/key/person). A replay of
# a scan whose answer was lost after the broker acknowledged carries the same checkin_id, so
# tracing (which keeps one row per checkin_id) records it once.
CHECKIN_ID_NAMESPACE = UUID("6f0d3c1e-5a7b-4d2c-9e8f-1a2b3c4d5e6f")


def checkin_id_for(caller: UUID, key: str, person_id: UUID) -> UUID:
    return uuid.uuid5(CHECKIN_ID_NAMESPACE, f"{caller}/{key}/{person_id}")


def unique(ids: Sequence[UUID]) -> list[UUID]:
    """The ids in their first order, each once."""
    return list(dict.fromkeys(ids))


class Sender(Protocol):
    """Where check-in events go: ``shared.kafka.Publisher`` of venuecode.checkins.v1, or a test's list."""

    async def send(self, events: Sequence[BaseModel], key: bytes) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


def check_fever_acknowledged(band: TemperatureBand | None, acknowledged: bool) -> None:
    """A fever entry is recorded only once the inspector confirmed they saw the warning."""
    if band == "fever" and not acknowledged:
        raise FeverNotAcknowledged()


class CheckinService:
    def __init__(
        self,
        store: Store,
        memory: Memory,
        cache: CheckinCache,
        signer: TokenSigner,
        checkins: Sender,
        *,
        clock: Clock = _now,
    ) -> None:
        self._store = store
        self._memory = memory
        self._cache = cache
        self._signer = signer
        self._checkins = checkins
        self._clock = clock
        self._writes: set[asyncio.Future[object]] = set()

    def open_venue_token(self, token: str) -> VenueClaim:
        try:
            return self._signer.open_venue_token(token)
        except InvalidToken as exc:
            raise InvalidValue("venue_token", "This is not a genuine venue code.") from exc

    # --- scans ------------------------------------------------------------------------------

    async def scan(
        self,
        caller: UUID,
        key: str,
        venue_token: str,
        person_ids: Sequence[UUID] | None,
        temperature_band: TemperatureBand | None,
        *,
        scanned_at: datetime | None = None,
    ) -> ScanOutcome:
        """Record one scan once per (caller, key): the first answer is replayed to every repeat."""
        venue = self.open_venue_token(venue_token)
        wanted = unique(person_ids) if person_ids else [caller]
        claim: Claim | None
        try:
            claim = await self._cache.claim(caller, key, wanted, now=self._clock().timestamp())
        except CacheDown:
            claim = None  # degrade to the deterministic checkin_id: tracing keeps a replay once
        if claim is not None and not claim.owned:
            if claim.answer is None:
                raise ScanInProgress("The first request with this key is still running; retry shortly.")
            return ScanOutcome(replayed=True, result=result_from_json(claim.answer))
        # Every attempt of one scan derives the same time, with or without Redis (scantime.py).
        at = scan_time(claim.first_at if claim is not None else None, scanned_at, self._clock())
        # The colours came with the claim; a cache that is down reads as unknown.
        colours = claim.colours if claim is not None else dict.fromkeys(wanted, UNKNOWN)
        try:
            result = await self._record_scan(
                caller,
                key,
                venue,
                wanted,
                temperature_band,
                colours=colours,
                refused=claim.refused if claim is not None else None,
                now=at,
            )
        except BaseException as exc:
            if claim is not None:
                # A rule's answer (404, 403, 410, 429) came before publishing: nothing can be on
                # the topic. Anything else (503, a cancelled request) may have reached it.
                # The time of an attempt that may be on the topic outlives this one's failure.
                unsure = not isinstance(exc, Problem) or isinstance(exc, Unavailable)
                await self._cache.release(
                    caller, key, claim.marker, at.timestamp() if unsure else claim.first_at
                )
            raise
        return ScanOutcome(replayed=False, result=result)

    async def _record_scan(
        self,
        caller: UUID,
        key: str,
        token: VenueClaim,
        wanted: list[UUID],
        temperature_band: TemperatureBand | None,
        *,
        colours: dict[UUID, CachedColour],
        refused: RateLimited | None,
        now: datetime,
    ) -> ScanResult:
        context = await self._memory.scan_context(token.venue_id, caller, wanted, token.poster_version)
        venue = self._check_venue(context, token)
        people = self._check_people(context, wanted)
        # The caps were counted with the claim; without Redis nobody is refused.
        if refused is not None:
            raise refused
        checkins: list[RecordedCheckin] = []
        events: list[BaseModel] = []
        for person in people:
            is_self = person.person_id == caller
            method: CheckinMethod = "self_scan" if is_self else "proxy_scan"
            entry = colours[person.person_id]
            checkin_id = checkin_id_for(caller, key, person.person_id)
            checkins.append(
                RecordedCheckin(
                    checkin_id,
                    person.person_id,
                    person.masked_name,
                    person.masked_id,
                    entry.colour,
                    entry.reason,
                    method,
                    now,
                )
            )
            data = CheckinRecordedData(
                checkin_id=checkin_id,
                person_id=person.person_id,
                venue_id=venue.venue_id,
                method=method,
                temperature_band=temperature_band,
                colour_at_checkin=entry.colour,
                guardian_id=None if is_self else caller,
                checked_in_at=now,
            )
            # The event id follows the checkin id, so consumers' event-id dedupe also holds on replay.
            events.append(CheckinRecorded(event_id=uuid.uuid5(checkin_id, "checkin.recorded"), data=data))
        await self._checkins.send(events, str(venue.venue_id).encode())
        result = ScanResult(venue, tuple(checkins))
        # Who is inside and the answer to replay go to Redis in one round trip, after the answer:
        # a retry meanwhile finds the key still pending and waits for this write (claim).
        entries = {c.person_id: now.timestamp() for c in checkins}
        self._after_answer(self._cache.enter(venue.venue_id, entries, (caller, key, result)))
        return result

    def _after_answer(self, write: Awaitable[object]) -> None:
        """Keep a cache write that completes beside the answer; ``drain`` waits for those still
        out. The cache queues it on its shared pipeline (a future: no task per scan)."""
        pending = asyncio.ensure_future(write)
        self._writes.add(pending)
        pending.add_done_callback(self._writes.discard)

    async def _settle(self) -> None:
        """Wait for the cache writes out now (a few milliseconds); they never fail."""
        if self._writes:
            await asyncio.wait(self._writes)

    async def drain(self) -> None:
        """Wait for the cache writes of answered scans (at shutdown: none is lost to a stop),
        then close the cache's own connections."""
        while self._writes:
            await self._settle()
        await self._cache.aclose()

    @staticmethod
    def _check_venue(context: ScanContext | None, token: VenueClaim) -> Venue:
        if context is None:
            raise UnknownVenue("This venue code belongs to no registered venue.")
        if token.poster_version < context.venue.poster_version:
            raise OutdatedPoster(
                "This poster has been replaced. Staff: print the venue's new poster and put it up."
            )
        return context.venue

    @staticmethod
    def _check_people(context: ScanContext | None, wanted: Sequence[UUID]) -> list[PersonView]:
        assert context is not None
        by_id = {p.person_id: p for p in context.people}
        refused = [p for p in wanted if not by_id[p].allowed]
        if refused:
            raise NotYourDependent("You can check in only yourself and your family members.")
        return [by_id[p] for p in wanted]

    # --- reverse scans --------------------------------------------------------------------

    async def inspect(
        self,
        inspector: UUID,
        venue_id: UUID,
        health_code_token: str,
        temperature_band: TemperatureBand,
        *,
        fever_acknowledged: bool = False,
    ) -> RecordedCheckin:
        """An inspector scans a person's health code and confirms their entry."""
        check_fever_acknowledged(temperature_band, fever_acknowledged)
        try:
            code = self._signer.open_health_code(health_code_token)
        except InvalidToken:
            code = None
        # From memory (memory.py), like a scan's reads; the binding is checked before the token.
        context = await self._memory.inspection_context(
            venue_id, inspector, code.person_id if code is not None else None
        )
        if not context.bound:
            raise NotAnInspector("Only an inspector bound to this venue can scan health codes here.")
        if code is None:
            raise InvalidValue("health_code_token", "This is not a genuine health code.")
        now = self._clock()
        if code.kind == "dynamic" and (code.expires_at or 0) <= now.timestamp():
            raise ExpiredHealthCode("This health code has expired; ask the person to refresh it.")
        self._check_paper_code(context, code)
        method: CheckinMethod = "paper_code" if code.kind == "paper" else "inspector_scan"
        entry = (await self._cache.colours([code.person_id]))[code.person_id]
        person = context.person
        recorded = RecordedCheckin(
            uuid7(),
            code.person_id,
            person.masked_name if person else "",
            person.masked_id if person else "",
            entry.colour,
            entry.reason,
            method,
            now,
        )
        data = CheckinRecordedData(
            checkin_id=recorded.checkin_id,
            person_id=code.person_id,
            venue_id=venue_id,
            method=method,
            temperature_band=temperature_band,
            colour_at_checkin=entry.colour,
            inspector_id=inspector,
            checked_in_at=now,
        )
        await self._checkins.send([CheckinRecorded(data=data)], str(venue_id).encode())
        self._after_answer(self._cache.enter(venue_id, {code.person_id: now.timestamp()}))
        return recorded

    @staticmethod
    def _check_paper_code(context: InspectionContext, code: HealthCodeClaim) -> None:
        """A paper card below the person's highest known serial was replaced by a newer print.

        A person with no known serial yet, or a card above it, is accepted: status
        announces each print with paper_code.issued, and that event may still be on its
        way here (the signature already proves status issued the card).
        """
        if code.kind != "paper" or context.paper_serial is None:
            return
        if (code.paper_serial or 0) < context.paper_serial:
            raise RevokedPaperCode("This paper code was replaced by a newer one and no longer works.")

    # --- check-outs -------------------------------------------------------------------------

    async def check_out(
        self, caller: UUID, venue_token: str, person_ids: Sequence[UUID] | None
    ) -> list[Checkout]:
        """End the open visits of the caller (and dependents) at the venue of the token."""
        token = self.open_venue_token(venue_token)
        explicit = unique(person_ids) if person_ids else None
        context = await self._memory.scan_context(token.venue_id, caller, explicit, token.poster_version)
        if context is None:
            raise UnknownVenue("This venue code belongs to no registered venue.")
        if explicit is not None:
            self._check_people(context, explicit)
        candidates = explicit or [p.person_id for p in context.people]
        now = self._clock()
        # A check-in answered a moment ago may still be writing its "inside" mark here.
        await self._settle()
        try:
            leaving = await self._cache.inside(token.venue_id, candidates, now.timestamp())
        except CacheDown:
            # Who is inside is unknown: trust the people named, or the caller alone.
            leaving = explicit or [caller]
        return await self._leave(token.venue_id, leaving, now)

    async def close_venue(self, caller: UUID, venue_id: UUID) -> list[Checkout]:
        """Closing time: check out everyone still inside."""
        staff = await self._store.venue_staff(venue_id, caller)
        if not staff.exists:
            raise UnknownVenue("No such venue.")
        if not staff.is_staff:
            raise NotVenueStaff("Only the venue's administrator or its inspectors can close it.")
        now = self._clock()
        await self._settle()
        closed: list[Checkout] = []
        # A page at a time: each page's check-outs are published before the next is read, so a
        # venue of any size closes in bounded steps, and a retry after a fault finishes the rest.
        try:
            async for inside in self._cache.everyone_inside(venue_id, now.timestamp()):
                closed += await self._leave(venue_id, inside, now)
        except CacheDown as exc:
            raise VisitsUnavailable("Who is inside cannot be read right now; retry shortly.") from exc
        return closed

    async def _leave(self, venue_id: UUID, person_ids: Sequence[UUID], now: datetime) -> list[Checkout]:
        if not person_ids:
            return []
        events = [
            CheckoutRecorded(data=CheckoutRecordedData(person_id=p, venue_id=venue_id, checked_out_at=now))
            for p in person_ids
        ]
        await self._checkins.send(events, str(venue_id).encode())
        await self._cache.leave(venue_id, person_ids)
        return [Checkout(p, now) for p in person_ids]

    # --- reads for pages ----------------------------------------------------------------------

    async def people_of(self, caller: UUID) -> list[PersonView]:
        return await self._memory.people_of(caller)

    async def inspector_venues(self, caller: UUID) -> list[Venue]:
        return await self._store.inspector_venues(caller)

    async def venue_page(self, caller: UUID, venue_token: str) -> ScanContext:
        """The venue of a poster and the people the caller may tick (themself, dependents)."""
        token = self.open_venue_token(venue_token)
        context = await self._memory.scan_context(token.venue_id, caller, None, token.poster_version)
        self._check_venue(context, token)
        assert context is not None
        return context

"""In-memory collaborators of the tracing rules: a dict-backed store, a recording publisher, a clock.

The store fake implements the methods the rules call, with the same names and answers as
``services.tracing.store.Store``; its unit of work keeps what a block wrote only when the block
ends without an error, as a transaction does.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from pydantic import BaseModel

from services.tracing.answers import contacts_json
from services.tracing.models import (
    AuditAction,
    CheckinRow,
    CheckoutRow,
    Contact,
    ContactAnswer,
    ContactQueryResult,
    Person,
    QueryParameters,
    Venue,
)
from services.tracing.models_outbreaks import (
    AlertPerson,
    AlertState,
    AlertSummary,
    CaseTimelineVisit,
    ExposureAnalysis,
    SharedExposure,
    VenueAlert,
    VisitWindow,
)
from services.tracing.retention import Retention
from services.tracing.store import Store

T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)


class Clock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def retention(clock: Clock, days: int = 21) -> Retention:
    return Retention(days, clock=clock)


@dataclass
class Sent:
    events: list[BaseModel]
    key: bytes


class RecordingPublisher:
    """Keeps every send (events and key); ``failing`` makes the next sends raise, as a broker away."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.failing: Exception | None = None

    async def send(self, events: Sequence[BaseModel], key: bytes) -> None:
        if self.failing is not None:
            raise self.failing
        self.sent.append(Sent(list(events), key))

    @property
    def events(self) -> list[Any]:
        return [e for s in self.sent for e in s.events]


@dataclass
class Audited:
    actor_id: UUID
    action: str
    count: int
    query_id: UUID | None = None
    subject_id: UUID | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class State:
    """Everything the fake store holds."""

    audit: list[Audited] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: dict[UUID, VenueAlert] = field(default_factory=dict)
    analyses: dict[UUID, ExposureAnalysis] = field(default_factory=dict)
    queries: dict[UUID, ContactQueryResult] = field(default_factory=dict)
    # What the statements that search the check-ins find, as a test sets it up.
    present: list[AlertPerson] = field(default_factory=list)
    exposures: list[SharedExposure] = field(default_factory=list)
    timelines: list[CaseTimelineVisit] = field(default_factory=list)
    depth_1: dict[UUID, list[Contact]] = field(default_factory=dict)
    depth_2: dict[UUID, list[Contact]] = field(default_factory=dict)
    # The batch writes: (check-ins, check-outs, partitions asked for).
    writes: list[tuple[list[CheckinRow], list[CheckoutRow], list[date]]] = field(default_factory=list)
    write_error: Exception | None = None
    # The compliance view's poster columns: venue -> (poster version, printed version).
    posters: dict[UUID, tuple[int, int]] = field(default_factory=dict)
    # Registry's read models, and the events applied to them.
    claimed: set[UUID] = field(default_factory=set)
    venues: dict[UUID, Venue] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)


class FakeAudit:
    def __init__(self, state: State) -> None:
        self._s = state

    async def write(
        self,
        actor_id: UUID,
        action: str,
        count: int,
        *,
        query_id: UUID | None = None,
        subject_id: UUID | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._s.audit.append(Audited(actor_id, action, count, query_id, subject_id, detail or {}))

    async def write_each(
        self, actor_id: UUID, action: str, subjects: Sequence[UUID], *, query_id: UUID, detail: dict[str, Any]
    ) -> None:
        for subject in subjects:
            self._s.audit.append(Audited(actor_id, action, 1, query_id, subject, detail))


class FakeSettings:
    def __init__(self, state: State) -> None:
        self._s = state

    async def read(self, key: str) -> dict[str, Any] | None:
        return self._s.settings.get(key)

    async def write(self, key: str, value: dict[str, Any], actor: UUID) -> None:
        self._s.settings[key] = value


class FakeAlerts:
    def __init__(self, state: State) -> None:
        self._s = state

    async def present_at(self, venue_id: UUID, w: VisitWindow) -> list[AlertPerson]:
        return list(self._s.present)

    async def save(self, alert: VenueAlert) -> None:
        self._s.alerts[alert.alert_id] = alert

    async def load(self, alert_id: UUID, *, lock: bool = False) -> VenueAlert | None:
        return self._s.alerts.get(alert_id)

    async def latest(self, state: AlertState | None, limit: int) -> list[AlertSummary]:
        found = [a for a in self._s.alerts.values() if state is None or a.state == state]
        found.sort(key=lambda a: a.created_at, reverse=True)
        return [
            AlertSummary(
                **a.model_dump(exclude={"people", "dwell_minutes", "note"} | _DECISIONS),
                people_count=len(a.people),
            )
            for a in found[:limit]
        ]

    async def approve(self, alert_id: UUID, by: UUID, at: datetime) -> None:
        alert = self._s.alerts[alert_id]
        self._s.alerts[alert_id] = alert.model_copy(
            update={"state": "approved", "approved_by": by, "approved_at": at}
        )

    async def withdraw(self, alert_id: UUID, by: UUID, at: datetime) -> None:
        alert = self._s.alerts[alert_id]
        self._s.alerts[alert_id] = alert.model_copy(
            update={"state": "withdrawn", "withdrawn_by": by, "withdrawn_at": at}
        )


_DECISIONS = {"approved_by", "approved_at", "withdrawn_by", "withdrawn_at"}


class FakeOutbreaks:
    def __init__(self, state: State) -> None:
        self._s = state

    async def shared_exposures(
        self, cases: Sequence[UUID], w: VisitWindow, *, gap_minutes: int
    ) -> list[SharedExposure]:
        return list(self._s.exposures)

    async def case_timelines(self, cases: Sequence[UUID], w: VisitWindow) -> list[CaseTimelineVisit]:
        return list(self._s.timelines)

    async def save_analysis(self, analysis: ExposureAnalysis) -> None:
        self._s.analyses[analysis.analysis_id] = analysis

    async def load_analysis(self, analysis_id: UUID) -> ExposureAnalysis | None:
        return self._s.analyses.get(analysis_id)


class FakeContacts:
    def __init__(self, state: State) -> None:
        self._s = state

    async def case_visits(self, q: QueryParameters, cutoff: datetime) -> list[Any]:
        return []

    async def contacts_depth_1(self, q: QueryParameters, cutoff: datetime) -> list[Contact]:
        return list(self._s.depth_1.get(q.person_id, []))

    async def contacts_depth_2(
        self, q: QueryParameters, first: Sequence[Contact], cutoff: datetime
    ) -> list[Contact]:
        return list(self._s.depth_2.get(q.person_id, []))

    async def answer(
        self, q: QueryParameters, cutoff: datetime, query_id: UUID, requested_by: UUID, created_at: datetime
    ) -> ContactAnswer:
        def rank(c: Contact) -> tuple[float, int]:
            return (-c.overlap_minutes, c.person_id.int)

        first = sorted(self._s.depth_1.get(q.person_id, []), key=rank)
        second = sorted(self._s.depth_2.get(q.person_id, []), key=rank) if q.depth >= 2 else []
        result = ContactQueryResult(
            query_id=query_id,
            requested_by=requested_by,
            parameters=q,
            case_visits=[],
            contacts=first + second,
            created_at=created_at,
        )
        await self.save_query(result, {"depth": q.depth, "case_visits": 0})
        return ContactAnswer(
            query_id=query_id,
            requested_by=requested_by,
            parameters=q,
            created_at=created_at,
            case_visits_json=b"[]",
            contacts_json=contacts_json(result.contacts),
            contact_count=len(result.contacts),
        )

    async def save_query(self, result: ContactQueryResult, audit_detail: dict[str, Any]) -> None:
        self._s.queries[result.query_id] = result
        self._s.audit.append(
            Audited(
                result.requested_by,
                AuditAction.CONTACT_QUERY,
                len(result.contacts),
                result.query_id,
                result.parameters.person_id,
                audit_detail,
            )
        )

    async def load_query(self, query_id: UUID) -> ContactQueryResult | None:
        return self._s.queries.get(query_id)


class FakeCheckins:
    def __init__(self, state: State) -> None:
        self._s = state

    async def write(
        self, checkins: Sequence[CheckinRow], checkouts: Sequence[CheckoutRow], *, partitions: Sequence[date]
    ) -> tuple[int, int]:
        if self._s.write_error is not None:
            raise self._s.write_error
        self._s.writes.append((list(checkins), list(checkouts), list(partitions)))
        stored = {r.checkin_id for batch, _, _ in self._s.writes[:-1] for r in batch}
        return len({r.checkin_id for r in checkins} - stored), len(checkouts)

    @asynccontextmanager
    async def staged(self, checkins: Sequence[CheckinRow]) -> AsyncIterator[FakeStaged]:
        if self._s.write_error is not None:
            raise self._s.write_error
        yield FakeStaged(self, checkins)


@dataclass
class FakeStaged:
    """``store_checkins.StagedCheckins``: the batch is kept when ``store`` is called."""

    checkins_store: FakeCheckins
    checkins: Sequence[CheckinRow]

    async def store(self, checkouts: Sequence[CheckoutRow]) -> tuple[int, int]:
        return await self.checkins_store.write(self.checkins, checkouts, partitions=[])


class FakeRegistry:
    def __init__(self, state: State) -> None:
        self._s = state

    async def claim(self, event_id: UUID) -> bool:
        if event_id in self._s.claimed:
            return False
        self._s.claimed.add(event_id)
        return True

    async def put_venue(self, venue: Venue, registered_at: datetime | None = None) -> None:
        self._s.venues[venue.venue_id] = venue
        poster, printed = self._s.posters.get(venue.venue_id, (1, 0))
        self._s.posters[venue.venue_id] = (max(poster, venue.poster_version), printed)

    async def rename_venue(self, venue_id: UUID, name: str) -> None:
        if venue_id in self._s.venues:
            self._s.venues[venue_id] = self._s.venues[venue_id].model_copy(update={"name": name})

    async def put_person(self, person: Person, id_digest: str) -> None:
        self._s.people[id_digest] = person


class FakeCompliance:
    """``store_compliance.ComplianceStore``'s writes: versions only ever grow."""

    def __init__(self, state: State) -> None:
        self._s = state

    async def raise_poster_version(self, venue_id: UUID, version: int) -> None:
        poster, printed = self._s.posters.get(venue_id, (1, 0))
        self._s.posters[venue_id] = (max(poster, version), printed)

    async def raise_printed_version(self, venue_id: UUID, version: int) -> None:
        poster, printed = self._s.posters.get(venue_id, (1, 0))
        self._s.posters[venue_id] = (poster, max(printed, version))


class FakeTopics:
    def __init__(self, state: State) -> None:
        self.registry = FakeRegistry(state)
        self.compliance = FakeCompliance(state)
        self.audit = FakeAudit(state)
        self.settings = FakeSettings(state)
        self.alerts = FakeAlerts(state)
        self.outbreaks = FakeOutbreaks(state)
        self.contacts = FakeContacts(state)
        self.checkins = FakeCheckins(state)


class FakeStore(FakeTopics):
    """``Store``'s methods over ``State``; ``unit()`` keeps its writes only when its block succeeds."""

    def __init__(self) -> None:
        self.state = State()
        super().__init__(self.state)
        self.units = 0

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[FakeTopics]:
        before = copy.deepcopy(self.state)
        self.units += 1
        try:
            yield self
        except BaseException:
            # Rolled back: what the block wrote is gone.
            for name in vars(before):
                setattr(self.state, name, getattr(before, name))
            raise

    @asynccontextmanager
    async def event(self, event_id: UUID) -> AsyncIterator[FakeTopics | None]:
        async with self.unit() as unit:
            yield unit if await unit.registry.claim(event_id) else None

    def as_store(self) -> Store:
        return cast(Store, self)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)

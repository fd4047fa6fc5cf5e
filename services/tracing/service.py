"""The rules of tracing: ingest the check-in stream, answer presence and contact queries,
export and notify behind the human gate, keep the audit log and the retention period.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import asyncpg

from services.tracing import store, store_contacts, store_outbreaks
from services.tracing.models import (
    AuditAction,
    AuditEntry,
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
from services.tracing.wire import row_of
from shared.db import claim_event
from shared.errors import Conflict, InvalidValue, NotFound
from shared.events import (
    CheckinRecorded,
    CheckoutRecorded,
    Colour,
    PersonRegistered,
    StatusCommand,
    StatusSet,
    StatusSetData,
    VenueRegistered,
    VenueRenamed,
)
from shared.i18n import REASON_CODES
from shared.ids import uuid7
from shared.pages import csv_safe, csv_text

log = logging.getLogger("venuecode.tracing")

Clock = Callable[[], datetime]
StatusPublisher = Callable[[Sequence[StatusCommand]], Awaitable[None]]
NOTIFICATIONS_KEY = "notifications"
CSV_COLUMNS = (
    "person_id",
    "depth",
    "venue_id",
    "venue_name",
    "contact_checked_in_at",
    "case_checked_in_at",
    "overlap_minutes",
    "via_person_id",
)
# When registry sends no typical stay, a category's usual visit length (minutes),
# from the reference system's guidance on dwell times; anything else gets 60.
CATEGORY_STAY_MINUTES: dict[str, int] = {
    "supermarket": 30,
    "market": 45,
    "shop": 20,
    "restaurant": 90,
    "cafe": 45,
    "transport": 30,
    "office": 480,
    "school": 480,
    "hospital": 120,
    "clinic": 60,
    "gym": 90,
    "cinema": 150,
    "hotel": 720,
    "residential": 720,
}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class IngestOutcome:
    stored: int
    duplicates: int
    checkouts_applied: int
    too_old: int


def _days_of(checkins: Sequence[CheckinRow]) -> list[date]:
    """The UTC days of a batch's check-ins; one conversion for a batch within one day."""
    if not checkins:
        return []
    times = [r.checked_in_at for r in checkins]
    first, last = min(times).astimezone(UTC).date(), max(times).astimezone(UTC).date()
    if first == last:
        return [first]
    return sorted({t.astimezone(UTC).date() for t in times})


class TracingService:
    """Tracing's rules; the pool, the clock and the status-command publisher are injected."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        retention_days: int,
        partitions_ahead_days: int,
        audit_retention_days: int = 730,
        publish_status: StatusPublisher,
        clock: Clock = utcnow,
    ) -> None:
        self._pool = pool
        self._retention = timedelta(days=retention_days)
        self._audit_retention = timedelta(days=max(audit_retention_days, retention_days))
        self._ahead = partitions_ahead_days
        self._publish_status = publish_status
        self._clock = clock
        # Days whose partition this service made sure of, so a batch skips that round trip;
        # forgotten whenever upkeep may have dropped partitions.
        self._partitioned: set[date] = set()

    def cutoff(self) -> datetime:
        """Nothing that checked in before this instant is stored or read."""
        return self._clock() - self._retention

    # --- ingestion -------------------------------------------------------------

    async def ingest(self, events: Sequence[CheckinRecorded | CheckoutRecorded]) -> IngestOutcome:
        """Store a batch of decoded events (see ``ingest_rows``)."""
        rows = [row_of(e) for e in events]
        checkins = [r for r in rows if isinstance(r, CheckinRow)]
        checkouts = [r for r in rows if isinstance(r, CheckoutRow)]
        return await self.ingest_rows(checkins, checkouts)

    async def ingest_rows(
        self, checkins: Sequence[CheckinRow], checkouts: Sequence[CheckoutRow]
    ) -> IngestOutcome:
        """Store a batch of check-ins and apply its check-outs in one transaction.

        Check-ins older than the retention period are not stored (they would be
        dropped at once). Check-ins go first, so a check-out in the same batch
        finds the visit it ends. Redelivery and replay change nothing: the key
        refuses a check-in stored before (``store.record_checkins``).
        """
        fresh = self._fresh(checkins)
        async with self._pool.acquire() as conn:
            missing = [d for d in _days_of(fresh) if d not in self._partitioned]
            if missing:
                # Its own short transaction: DDL holds a lock on the parent table.
                await store.ensure_partitions(conn, missing)
                self._partitioned.update(missing)
            async with conn.transaction():
                written = await store.record_checkins(conn, fresh)
                applied = await store.apply_checkouts(conn, checkouts)
        return IngestOutcome(written, len(fresh) - written, applied, len(checkins) - len(fresh))

    def _fresh(self, checkins: Sequence[CheckinRow]) -> Sequence[CheckinRow]:
        """The check-ins within the retention period (usually all: one comparison then)."""
        if not checkins:
            return checkins
        cutoff = self.cutoff()
        # Comparing with the cutoff converts time zones (~0.5 µs a row); the events of one
        # batch share theirs, so their minimum is cheap.
        if min(r.checked_in_at for r in checkins) >= cutoff:
            return checkins
        return [r for r in checkins if r.checked_in_at >= cutoff]

    async def registry_event(self, event: VenueRegistered | VenueRenamed | PersonRegistered) -> bool:
        """Keep the venue and person read models; returns False when the event was handled before."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, "tracing", event.event_id):
                return False
            if isinstance(event, PersonRegistered):
                person = Person(
                    **event.data.model_dump(include={"person_id", "id_kind", "masked_name", "masked_id"})
                )
                await store.upsert_person(conn, person, event.data.id_digest)
                return True
            if isinstance(event, VenueRenamed):
                await store.rename_venue(conn, event.data.venue_id, event.data.name)
                return True
            data = event.data
            stay = data.typical_stay_minutes or CATEGORY_STAY_MINUTES.get(data.category.lower())
            venue = Venue(
                venue_id=data.venue_id,
                region_code=data.region_code,
                name=data.name,
                category=data.category,
                typical_stay_minutes=stay,
            )
            await store.upsert_venue(conn, venue)
        return True

    async def maintain(self) -> tuple[list[date], list[str]]:
        """Create partitions from yesterday to ``ahead`` days on; drop those past retention."""
        today = self._clock().astimezone(UTC).date()
        days = [today + timedelta(days=n) for n in range(-1, self._ahead + 1)]
        async with self._pool.acquire() as conn:
            # Cheap without Citus (one catalogue read); with it, a no-op once distributed.
            await store.distribute_on_citus(conn)
            created = await store.ensure_partitions(conn, days)
            # A day partition goes once all of it is older than the cutoff.
            cutoff_day = self.cutoff().astimezone(UTC).date()
            self._partitioned.clear()
            dropped = await store.drop_partitions_before(conn, cutoff_day)
            await store.delete_queries_before(conn, self.cutoff())
            await store_outbreaks.delete_outbreak_work_before(conn, self.cutoff())
            await store.delete_audit_before(conn, self._clock() - self._audit_retention)
        if dropped:
            log.info("retention dropped partitions", extra={"partitions": dropped})
        return created, dropped

    # --- queries ---------------------------------------------------------------

    def _window(self, from_at: datetime | None, to_at: datetime | None) -> tuple[datetime, datetime]:
        to_at = to_at or self._clock()
        from_at = from_at or to_at - self._retention
        if from_at >= to_at:
            raise InvalidValue("to", "must be later than from")
        if to_at - from_at > self._retention:
            raise InvalidValue("from", f"the window may span at most {self._retention.days} days")
        return from_at, to_at

    async def presence(
        self, actor: UUID, venue_id: UUID, from_at: datetime | None, to_at: datetime | None
    ) -> list[PresenceRow]:
        start, end = self._window(from_at, to_at)
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await store.venue_presence(conn, venue_id, start, end, self.cutoff())
            await store.write_audit(
                conn,
                actor,
                AuditAction.PRESENCE,
                len(rows),
                detail={"venue_id": str(venue_id), "from": start.isoformat(), "to": end.isoformat()},
            )
        return rows

    async def find_person(self, actor: UUID, id_digest: str) -> Person:
        """The person registered under an identity digest (the caller digests with the vault)."""
        async with self._pool.acquire() as conn, conn.transaction():
            person = await store.person_by_digest(conn, id_digest)
            await store.write_audit(
                conn,
                actor,
                AuditAction.PERSON_LOOKUP,
                0 if person is None else 1,
                subject_id=None if person is None else person.person_id,
            )
        if person is None:
            raise NotFound("No person is registered under this identity number.")
        return person

    async def own_visits(
        self, person_id: UUID, from_at: datetime | None, to_at: datetime | None
    ) -> list[OwnVisit]:
        start, end = self._window(from_at, to_at)
        async with self._pool.acquire() as conn:
            return await store.own_visits(conn, person_id, start, end, self.cutoff())

    async def contact_query(self, actor: UUID, params: QueryParameters) -> ContactQueryResult:
        """Run a contact query (depth 1, then 2 when asked), store it with its contacts, audit it."""
        self._window(params.from_at, params.to_at)
        cutoff = self.cutoff()
        async with self._pool.acquire() as conn:
            visits = await store_contacts.case_visits(conn, params, cutoff)
            first = await store_contacts.contacts_depth_1(conn, params, cutoff)
            second = []
            if params.depth >= 2:
                second = await store_contacts.contacts_depth_2(conn, params, first, cutoff)
            result = ContactQueryResult(
                query_id=uuid7(),
                requested_by=actor,
                parameters=params,
                case_visits=visits,
                contacts=sorted(first, key=_rank) + sorted(second, key=_rank),
                created_at=self._clock(),
            )
            async with conn.transaction():
                await store.save_query(conn, result)
                await store.write_audit(
                    conn,
                    actor,
                    AuditAction.CONTACT_QUERY,
                    len(result.contacts),
                    query_id=result.query_id,
                    subject_id=params.person_id,
                    detail={"depth": params.depth, "case_visits": len(visits)},
                )
        return result

    async def stored_query(self, query_id: UUID) -> ContactQueryResult:
        async with self._pool.acquire() as conn:
            result = await store.load_query(conn, query_id)
        if result is None:
            raise NotFound("No contact query has this id.")
        return result

    async def show_query(self, actor: UUID, query_id: UUID) -> ContactQueryResult:
        """A stored query with its contacts: a staff read of movements, so it is audited."""
        result = await self.stored_query(query_id)
        async with self._pool.acquire() as conn:
            await store.write_audit(
                conn, actor, AuditAction.QUERY_VIEW, len(result.contacts), query_id=query_id
            )
        return result

    async def export_csv(self, actor: UUID, query_id: UUID) -> str:
        """The query's contacts as CSV text (with a BOM), audited as an export."""
        result = await self.stored_query(query_id)
        text = csv_text(
            CSV_COLUMNS,
            (
                [
                    c.person_id,
                    c.depth,
                    c.venue_id,
                    csv_safe(c.venue_name or ""),
                    c.contact_checked_in_at.isoformat(),
                    c.case_checked_in_at.isoformat(),
                    f"{c.overlap_minutes:.2f}",
                    c.via_person_id,
                ]
                for c in result.contacts
            ),
        )
        async with self._pool.acquire() as conn:
            await store.write_audit(conn, actor, AuditAction.EXPORT, len(result.contacts), query_id=query_id)
        return text

    # --- notifications (the human gate) ------------------------------------------

    async def notifications_paused(self) -> bool:
        async with self._pool.acquire() as conn:
            value = await store.read_setting(conn, NOTIFICATIONS_KEY)
        return bool(value and value.get("paused"))

    async def set_notifications_paused(self, actor: UUID, paused: bool) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            await store.write_setting(conn, NOTIFICATIONS_KEY, {"paused": paused}, actor)
            await store.write_audit(conn, actor, AuditAction.SETTINGS, 0, detail={"paused": paused})
        return paused

    async def notify(self, actor: UUID, query_id: UUID, colour: Colour, reason: str) -> int:
        """Send one status.set per contact of a stored query; only ever on an epidemiologist's call."""
        if reason not in REASON_CODES:
            raise InvalidValue("reason", f"must be one of {', '.join(sorted(REASON_CODES))}")
        result = await self.stored_query(query_id)
        if await self.notifications_paused():
            raise Conflict("Notifications are paused by an operator; nothing was sent.")
        commands = [
            StatusSet(
                data=StatusSetData(
                    person_id=c.person_id,
                    colour=colour,
                    reason=reason,
                    requested_by=actor,
                    source_query_id=query_id,
                )
            )
            for c in result.contacts
        ]
        await self._publish_status(commands)
        async with self._pool.acquire() as conn:
            await store.write_audit(
                conn,
                actor,
                AuditAction.NOTIFICATION,
                len(commands),
                query_id=query_id,
                detail={"colour": colour, "reason": reason},
            )
        return len(commands)

    async def audit(self, from_at: datetime | None, to_at: datetime | None) -> list[AuditEntry]:
        end = to_at or self._clock()
        start = from_at or end - timedelta(days=30)
        if start >= end:
            raise InvalidValue("to", "must be later than from")
        async with self._pool.acquire() as conn:
            return await store.audit_entries(conn, start, end)


def _rank(contact: Contact) -> tuple[float, str]:
    return (-contact.overlap_minutes, str(contact.person_id))

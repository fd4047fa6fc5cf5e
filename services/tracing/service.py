"""The rules of tracing's case work: presence and contact queries, exports and notifications
behind the human gate, the audit log, and the upkeep of partitions and retention.

No SQL and no connection here: the store, the status-command sender and the retention (with
its clock) are given, so unit tests build the service with in-memory fakes.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from services.tracing import exports
from services.tracing.answers import result_of
from services.tracing.commands import Sender, send_commands
from services.tracing.errors import NotificationsPaused, PersonNotFound, QueryNotFound
from services.tracing.models import (
    AuditAction,
    AuditEntry,
    ContactAnswer,
    ContactQueryResult,
    OwnVisit,
    Person,
    PresenceRow,
    QueryParameters,
)
from services.tracing.retention import Retention
from services.tracing.store import SettingStore, Store
from shared.errors import InvalidValue
from shared.events import Colour, StatusSet, StatusSetData
from shared.i18n import REASON_CODES
from shared.ids import uuid7

log = logging.getLogger("venuecode.tracing")

# The operator's pause switch of every status command tracing sends (notifications, alerts).
NOTIFICATIONS_KEY = "notifications"


async def notifications_paused(settings: SettingStore) -> bool:
    value = await settings.read(NOTIFICATIONS_KEY)
    return bool(value and value.get("paused"))


class TracingService:
    """Tracing's case work; the store, the status commands' sender and the retention are given."""

    def __init__(
        self,
        store: Store,
        retention: Retention,
        status_commands: Sender,
        *,
        audit_retention_days: int = 730,
        partitions_ahead_days: int = 7,
    ) -> None:
        self._store = store
        self._retention = retention
        self._status_commands = status_commands
        self._audit_retention = timedelta(days=max(audit_retention_days, retention.days))
        self._ahead = partitions_ahead_days

    async def maintain(self) -> tuple[list[date], list[str]]:
        """Create partitions from yesterday to ``ahead`` days on; drop what is past retention."""
        now = self._retention.now()
        today = now.astimezone(UTC).date()
        days = [today + timedelta(days=n) for n in range(-1, self._ahead + 1)]
        cutoff = self._retention.cutoff()
        store = self._store
        # Cheap without Citus (one catalogue read); with it, a no-op once distributed.
        await store.checkins.distribute_on_citus()
        created = await store.checkins.ensure_partitions(days)
        # A day partition goes once all of it is older than the cutoff.
        dropped = await store.checkins.drop_partitions_before(cutoff.astimezone(UTC).date())
        await store.contacts.delete_queries_before(cutoff)
        # Analyses and alerts hold movements (who was where, when): they go with the check-ins.
        await store.outbreaks.delete_analyses_before(cutoff)
        await store.alerts.delete_before(cutoff)
        await store.audit.delete_before(now - self._audit_retention)
        if dropped:
            log.info("retention dropped partitions", extra={"partitions": dropped})
        return created, dropped

    # --- queries ---------------------------------------------------------------

    async def presence(
        self, actor: UUID, venue_id: UUID, from_at: datetime | None, to_at: datetime | None
    ) -> list[PresenceRow]:
        start, end = self._retention.window(from_at, to_at)
        async with self._store.unit() as unit:
            rows = await unit.checkins.presence(venue_id, start, end, self._retention.cutoff())
            await unit.audit.write(
                actor,
                AuditAction.PRESENCE,
                len(rows),
                detail={"venue_id": str(venue_id), "from": start.isoformat(), "to": end.isoformat()},
            )
        return rows

    async def find_person(self, actor: UUID, id_digest: str) -> Person:
        """The person registered under an identity digest (the caller digests with the vault)."""
        async with self._store.unit() as unit:
            person = await unit.registry.person_by_digest(id_digest)
            await unit.audit.write(
                actor,
                AuditAction.PERSON_LOOKUP,
                0 if person is None else 1,
                subject_id=None if person is None else person.person_id,
            )
        if person is None:
            raise PersonNotFound()
        return person

    async def own_visits(
        self, person_id: UUID, from_at: datetime | None, to_at: datetime | None
    ) -> list[OwnVisit]:
        start, end = self._retention.window(from_at, to_at)
        return await self._store.checkins.own_visits(person_id, start, end, self._retention.cutoff())

    async def contact_answer(self, actor: UUID, params: QueryParameters) -> ContactAnswer:
        """Run a contact query (depth 1, then 2 when asked), store it with its contacts and audit it
        (both or neither), and return the answer's JSON (``ContactStore.answer``)."""
        self._retention.check_window(params.from_at, params.to_at)
        return await self._store.contacts.answer(
            params, self._retention.cutoff(), uuid7(), actor, self._retention.now()
        )

    async def contact_query(self, actor: UUID, params: QueryParameters) -> ContactQueryResult:
        """``contact_answer``, its JSON read back into contacts."""
        return result_of(await self.contact_answer(actor, params))

    async def stored_query(self, query_id: UUID) -> ContactQueryResult:
        result = await self._store.contacts.load_query(query_id)
        if result is None:
            raise QueryNotFound()
        return result

    async def show_query(self, actor: UUID, query_id: UUID) -> ContactQueryResult:
        """A stored query with its contacts: a staff read of movements, so it is audited."""
        result = await self.stored_query(query_id)
        await self._store.audit.write(actor, AuditAction.QUERY_VIEW, len(result.contacts), query_id=query_id)
        return result

    async def export_csv(self, actor: UUID, query_id: UUID) -> str:
        """The query's contacts as CSV text (with a BOM), audited as an export."""
        result = await self.stored_query(query_id)
        text = exports.contacts_csv(result)
        await self._store.audit.write(actor, AuditAction.EXPORT, len(result.contacts), query_id=query_id)
        return text

    # --- notifications (the human gate) ------------------------------------------

    async def notifications_paused(self) -> bool:
        return await notifications_paused(self._store.settings)

    async def set_notifications_paused(self, actor: UUID, paused: bool) -> bool:
        async with self._store.unit() as unit:
            await unit.settings.write(NOTIFICATIONS_KEY, {"paused": paused}, actor)
            await unit.audit.write(actor, AuditAction.SETTINGS, 0, detail={"paused": paused})
        return paused

    async def notify(self, actor: UUID, query_id: UUID, colour: Colour, reason: str) -> int:
        """Send one status.set per contact of a stored query; only ever on an epidemiologist's call."""
        if reason not in REASON_CODES:
            raise InvalidValue("reason", f"must be one of {', '.join(sorted(REASON_CODES))}")
        result = await self.stored_query(query_id)
        if await self.notifications_paused():
            raise NotificationsPaused()
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
        await send_commands(self._status_commands, commands)
        await self._store.audit.write(
            actor,
            AuditAction.NOTIFICATION,
            len(commands),
            query_id=query_id,
            detail={"colour": colour, "reason": reason},
        )
        return len(commands)

    async def audit(self, from_at: datetime | None, to_at: datetime | None) -> list[AuditEntry]:
        end = to_at or self._retention.now()
        start = from_at or end - timedelta(days=30)
        if start >= end:
            raise InvalidValue("to", "must be later than from")
        return await self._store.audit.entries(start, end)

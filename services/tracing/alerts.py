"""Venue alerts: everyone present at a venue in a window, turned risk_area_visit on two signatures.

An epidemiologist creates the alert (the first signature) and sees who it found; a
second, different person with the health_authority role approves it, and only then
does a status.set naming the alert go out for each person. Withdrawing an approved
alert sends status.revert, and the status service takes back only the changes still
attributable to the alert. Every step, and every person changed, is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from services.tracing import store, store_outbreaks
from services.tracing.models import AlertState, AlertSummary, AuditAction, VenueAlert
from services.tracing.outbreaks import Retention
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import StatusCommand, StatusRevert, StatusRevertData, StatusSet, StatusSetData
from shared.ids import uuid7

CommandPublisher = Callable[[Sequence[StatusCommand]], Awaitable[None]]
# What an approved alert turns everyone it found into (API.md reason codes).
ALERT_COLOUR, ALERT_REASON = "yellow", "risk_area_visit"
NOTIFICATIONS_KEY = "notifications"  # the operator's pause switch, as service.py reads it
# A reviewer's list: the latest alerts; older ones are opened by id.
LIST_LIMIT = 200


def command_id(alert_id: UUID, name: str) -> UUID:
    """A command's event id, derived from the alert: sent again after a failed approval or
    withdrawal, it is the same command, and the status service applies it once."""
    return uuid.uuid5(alert_id, name)


class AlertService:
    """Venue alerts; the pool, the retention (with its clock) and the command publisher are injected."""

    def __init__(self, pool: asyncpg.Pool, retention: Retention, publish_status: CommandPublisher) -> None:
        self._pool = pool
        self._retention = retention
        self._publish = publish_status

    async def create(
        self,
        actor: UUID,
        venue_id: UUID,
        from_at: datetime,
        to_at: datetime,
        *,
        dwell_minutes: int | None,
        note: str | None,
    ) -> VenueAlert:
        """Find everyone present and keep the list for review; nobody is changed yet."""
        self._retention.check_window(from_at, to_at)
        async with self._pool.acquire() as conn, conn.transaction():
            people = await store_outbreaks.present_at(
                conn,
                venue_id,
                from_at=from_at,
                to_at=to_at,
                dwell=dwell_minutes,
                cutoff=self._retention.cutoff(),
            )
            alert = VenueAlert(
                alert_id=uuid7(),
                venue_id=venue_id,
                from_at=from_at,
                to_at=to_at,
                dwell_minutes=dwell_minutes,
                note=note,
                state="pending",
                created_by=actor,
                created_at=self._retention.now(),
                people=people,
            )
            await store_outbreaks.save_alert(conn, alert)
            await store.write_audit(
                conn,
                actor,
                AuditAction.ALERT_CREATED,
                len(people),
                query_id=alert.alert_id,
                detail={"venue_id": str(venue_id), "from": from_at.isoformat(), "to": to_at.isoformat()},
            )
            created = await store_outbreaks.load_alert(conn, alert.alert_id)
        assert created is not None  # written in this transaction
        return created

    async def listed(self, state: AlertState | None) -> list[AlertSummary]:
        """The latest alerts for review, without their people (so not an audited read)."""
        async with self._pool.acquire() as conn:
            return await store_outbreaks.alerts(conn, state, LIST_LIMIT)

    async def show(self, actor: UUID, alert_id: UUID) -> VenueAlert:
        """An alert with the people it found: a staff read of movements, so it is audited."""
        async with self._pool.acquire() as conn, conn.transaction():
            alert = await self._load(conn, alert_id, lock=False)
            await store.write_audit(conn, actor, AuditAction.ALERT_VIEW, len(alert.people), query_id=alert_id)
        return alert

    async def approve(self, actor: UUID, alert_id: UUID) -> VenueAlert:
        """The second signature: send one status.set per person, naming the alert, then record it.

        The alert's row stays locked from the check to the commit, so two approvers cannot
        both send; a failed publish leaves it pending, and sending again repeats the same
        command ids.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            alert = await self._load(conn, alert_id, lock=True)
            if alert.created_by == actor:
                raise Forbidden("Two-person rule: the alert's creator cannot approve it.")
            if alert.state != "pending":
                raise Conflict(f"The alert is {alert.state}; only a pending alert can be approved.")
            if await _paused(conn):
                raise Conflict("Notifications are paused by an operator; nothing was sent.")
            await self._publish([_set_command(alert, p, actor) for p in (x.person_id for x in alert.people)])
            now = self._retention.now()
            await store_outbreaks.approve_alert(conn, alert_id, actor, now)
            await store.write_audit(
                conn,
                actor,
                AuditAction.ALERT_APPROVED,
                len(alert.people),
                query_id=alert_id,
                detail={"created_by": str(alert.created_by)},
            )
            await store_outbreaks.write_audits(
                conn,
                actor,
                AuditAction.ALERT_PERSON_CHANGED,
                [p.person_id for p in alert.people],
                query_id=alert_id,
                detail={"colour": ALERT_COLOUR, "reason": ALERT_REASON},
            )
            return await self._load(conn, alert_id, lock=False)

    async def withdraw(self, actor: UUID, alert_id: UUID) -> VenueAlert:
        """Withdraw an alert; when it was approved, status.revert takes back what it changed."""
        async with self._pool.acquire() as conn, conn.transaction():
            alert = await self._load(conn, alert_id, lock=True)
            if alert.state == "withdrawn":
                raise Conflict("The alert is already withdrawn.")
            if alert.state == "approved":
                revert = StatusRevert(
                    event_id=command_id(alert_id, "revert"),
                    data=StatusRevertData(alert_id=alert_id, requested_by=actor),
                )
                await self._publish([revert])
            await store_outbreaks.withdraw_alert(conn, alert_id, actor, self._retention.now())
            await store.write_audit(
                conn,
                actor,
                AuditAction.ALERT_WITHDRAWN,
                len(alert.people) if alert.state == "approved" else 0,
                query_id=alert_id,
                detail={"was": alert.state},
            )
            return await self._load(conn, alert_id, lock=False)

    async def _load(self, conn: asyncpg.Connection, alert_id: UUID, *, lock: bool) -> VenueAlert:
        alert = await store_outbreaks.load_alert(conn, alert_id, lock=lock)
        if alert is None:
            raise NotFound("No venue alert has this id.")
        return alert


def _set_command(alert: VenueAlert, person_id: UUID, approver: UUID) -> StatusSet:
    return StatusSet(
        event_id=command_id(alert.alert_id, str(person_id)),
        data=StatusSetData(
            person_id=person_id,
            colour=ALERT_COLOUR,
            reason=ALERT_REASON,
            requested_by=approver,
            alert_id=alert.alert_id,
        ),
    )


async def _paused(conn: asyncpg.Connection) -> bool:
    value = await store.read_setting(conn, NOTIFICATIONS_KEY)
    return bool(value and value.get("paused"))

"""Venue alerts: everyone present at a venue in a window, turned risk_area_visit on two signatures.

An epidemiologist creates the alert (the first signature) and sees who it found; a
second, different person with the health_authority role approves it, and only then
does a status.set naming the alert go out for each person. Withdrawing an approved
alert sends status.revert, and the status service takes back only the changes still
attributable to the alert. Every step, and every person changed, is audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from services.tracing.commands import Sender, send_commands
from services.tracing.errors import (
    AlertAlreadyWithdrawn,
    AlertNotFound,
    AlertNotPending,
    NotificationsPaused,
    OwnAlert,
)
from services.tracing.models import AuditAction
from services.tracing.models_outbreaks import AlertState, AlertSummary, VenueAlert, VisitWindow
from services.tracing.retention import Retention
from services.tracing.service import notifications_paused
from services.tracing.store import Store, Unit
from shared.events import StatusRevert, StatusRevertData, StatusSet, StatusSetData
from shared.ids import uuid7

# What an approved alert turns everyone it found into (API.md reason codes).
ALERT_COLOUR, ALERT_REASON = "yellow", "risk_area_visit"
# A reviewer's list: the latest alerts; older ones are opened by id.
LIST_LIMIT = 200


def command_id(alert_id: UUID, name: str) -> UUID:
    """A command's event id, derived from the alert: sent again after a failed approval or
    withdrawal, it is the same command, and the status service applies it once."""
    return uuid.uuid5(alert_id, name)


class AlertService:
    """Venue alerts; the store, the retention (with its clock) and the status commands' sender are given."""

    def __init__(self, store: Store, retention: Retention, status_commands: Sender) -> None:
        self._store = store
        self._retention = retention
        self._status_commands = status_commands

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
        async with self._store.unit() as unit:
            window = VisitWindow(from_at, to_at, dwell_minutes, self._retention.cutoff())
            people = await unit.alerts.present_at(venue_id, window)
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
            await unit.alerts.save(alert)
            await unit.audit.write(
                actor,
                AuditAction.ALERT_CREATED,
                len(people),
                query_id=alert.alert_id,
                detail={"venue_id": str(venue_id), "from": from_at.isoformat(), "to": to_at.isoformat()},
            )
            return await _load(unit, alert.alert_id, lock=False)

    async def listed(self, state: AlertState | None) -> list[AlertSummary]:
        """The latest alerts for review, without their people (so not an audited read)."""
        return await self._store.alerts.latest(state, LIST_LIMIT)

    async def show(self, actor: UUID, alert_id: UUID) -> VenueAlert:
        """An alert with the people it found: a staff read of movements, so it is audited."""
        async with self._store.unit() as unit:
            alert = await _load(unit, alert_id, lock=False)
            await unit.audit.write(actor, AuditAction.ALERT_VIEW, len(alert.people), query_id=alert_id)
        return alert

    async def approve(self, actor: UUID, alert_id: UUID) -> VenueAlert:
        """The second signature: send one status.set per person, naming the alert, then record it.

        The alert's row stays locked from the check to the commit, so two approvers cannot
        both send; a failed publish leaves it pending, and sending again repeats the same
        command ids.
        """
        async with self._store.unit() as unit:
            alert = await _load(unit, alert_id, lock=True)
            if alert.created_by == actor:
                raise OwnAlert()
            if alert.state != "pending":
                raise AlertNotPending(alert.state)
            if await notifications_paused(unit.settings):
                raise NotificationsPaused()
            commands = [_set_command(alert, p.person_id, actor) for p in alert.people]
            await send_commands(self._status_commands, commands)
            await unit.alerts.approve(alert_id, actor, self._retention.now())
            await unit.audit.write(
                actor,
                AuditAction.ALERT_APPROVED,
                len(alert.people),
                query_id=alert_id,
                detail={"created_by": str(alert.created_by)},
            )
            await unit.audit.write_each(
                actor,
                AuditAction.ALERT_PERSON_CHANGED,
                [p.person_id for p in alert.people],
                query_id=alert_id,
                detail={"colour": ALERT_COLOUR, "reason": ALERT_REASON},
            )
            return await _load(unit, alert_id, lock=False)

    async def withdraw(self, actor: UUID, alert_id: UUID) -> VenueAlert:
        """Withdraw an alert; when it was approved, status.revert takes back what it changed."""
        async with self._store.unit() as unit:
            alert = await _load(unit, alert_id, lock=True)
            if alert.state == "withdrawn":
                raise AlertAlreadyWithdrawn()
            if alert.state == "approved":
                revert = StatusRevert(
                    event_id=command_id(alert_id, "revert"),
                    data=StatusRevertData(alert_id=alert_id, requested_by=actor),
                )
                await send_commands(self._status_commands, [revert])
            await unit.alerts.withdraw(alert_id, actor, self._retention.now())
            await unit.audit.write(
                actor,
                AuditAction.ALERT_WITHDRAWN,
                len(alert.people) if alert.state == "approved" else 0,
                query_id=alert_id,
                detail={"was": alert.state},
            )
            return await _load(unit, alert_id, lock=False)


async def _load(unit: Unit, alert_id: UUID, *, lock: bool) -> VenueAlert:
    alert = await unit.alerts.load(alert_id, lock=lock)
    if alert is None:
        raise AlertNotFound()
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

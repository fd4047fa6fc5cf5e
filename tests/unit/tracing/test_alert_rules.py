"""Venue alerts' rules with in-memory collaborators: two signatures, the commands they send, the
operator's pause, withdrawal's revert, and what a failed publish leaves behind."""

from __future__ import annotations

import uuid

import pytest

from services.tracing.alerts import ALERT_COLOUR, ALERT_REASON, AlertService, command_id
from services.tracing.errors import (
    AlertAlreadyWithdrawn,
    AlertNotFound,
    AlertNotPending,
    NotificationsPaused,
    OwnAlert,
)
from services.tracing.models import AuditAction
from services.tracing.models_outbreaks import AlertPerson
from services.tracing.service import NOTIFICATIONS_KEY
from shared.errors import InvalidValue, Unavailable
from shared.events import StatusRevert, StatusSet
from tests.unit.tracing.fakes import T0, Clock, FakeStore, RecordingPublisher, minutes, retention

CREATOR, APPROVER = uuid.uuid4(), uuid.uuid4()
VENUE = uuid.uuid4()


def people(n: int) -> list[AlertPerson]:
    return [
        AlertPerson(person_id=uuid.uuid4(), masked_name=f"P{i}", checked_in_at=T0 - minutes(90), ends_at=T0)
        for i in range(n)
    ]


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def alerts(store: FakeStore, publisher: RecordingPublisher, clock: Clock) -> AlertService:
    return AlertService(store.as_store(), retention(clock), publisher)


async def created(alerts: AlertService, store: FakeStore, found: int = 3) -> uuid.UUID:
    store.state.present = people(found)
    alert = await alerts.create(CREATOR, VENUE, T0 - minutes(120), T0, dwell_minutes=None, note="fish market")
    return alert.alert_id


async def test_creating_finds_everyone_present_and_changes_nobody(
    alerts: AlertService, store: FakeStore, publisher: RecordingPublisher
) -> None:
    store.state.present = people(2)
    alert = await alerts.create(CREATOR, VENUE, T0 - minutes(120), T0, dwell_minutes=30, note=None)

    assert alert.state == "pending"
    assert alert.people == store.state.present
    assert (alert.created_by, alert.created_at, alert.dwell_minutes) == (CREATOR, T0, 30)
    assert publisher.sent == []
    [audit] = store.state.audit
    assert (audit.action, audit.count, audit.query_id) == (AuditAction.ALERT_CREATED, 2, alert.alert_id)


async def test_a_window_must_run_forward_and_stay_inside_retention(alerts: AlertService) -> None:
    with pytest.raises(InvalidValue) as backwards:
        await alerts.create(CREATOR, VENUE, T0, T0, dwell_minutes=None, note=None)
    assert backwards.value.errors == [{"field": "to", "message": "must be later than from"}]
    with pytest.raises(InvalidValue) as long:
        await alerts.create(CREATOR, VENUE, T0 - minutes(21 * 24 * 60 + 1), T0, dwell_minutes=None, note=None)
    assert long.value.errors[0]["field"] == "from"
    # Exactly the retention period is allowed.
    await alerts.create(CREATOR, VENUE, T0 - minutes(21 * 24 * 60), T0, dwell_minutes=None, note=None)


async def test_approval_sends_one_set_per_person_naming_the_alert(
    alerts: AlertService, store: FakeStore, publisher: RecordingPublisher, clock: Clock
) -> None:
    alert_id = await created(alerts, store, found=3)
    found = store.state.present
    clock.now = T0 + minutes(5)

    approved = await alerts.approve(APPROVER, alert_id)

    assert (approved.state, approved.approved_by, approved.approved_at) == ("approved", APPROVER, clock.now)
    # One command a send, under its person's key, so each person's commands stay in order.
    assert [s.key for s in publisher.sent] == [str(p.person_id).encode() for p in found]
    commands = publisher.events
    assert all(isinstance(c, StatusSet) for c in commands)
    assert [c.data.person_id for c in commands] == [p.person_id for p in found]
    assert {(c.data.colour, c.data.reason, c.data.alert_id, c.data.requested_by) for c in commands} == {
        (ALERT_COLOUR, ALERT_REASON, alert_id, APPROVER)
    }
    # Event ids derive from the alert, so a repeated approval repeats the same commands.
    assert [c.event_id for c in commands] == [command_id(alert_id, str(p.person_id)) for p in found]
    actions = [(a.action, a.count, a.subject_id) for a in store.state.audit[1:]]
    assert actions == [
        (AuditAction.ALERT_APPROVED, 3, None),
        *[(AuditAction.ALERT_PERSON_CHANGED, 1, p.person_id) for p in found],
    ]


async def test_the_creator_cannot_approve(
    alerts: AlertService, store: FakeStore, publisher: RecordingPublisher
) -> None:
    alert_id = await created(alerts, store)
    with pytest.raises(OwnAlert) as refused:
        await alerts.approve(CREATOR, alert_id)
    assert refused.value.status_code == 403
    assert refused.value.detail == "Two-person rule: the alert's creator cannot approve it."
    assert publisher.sent == []
    assert store.state.alerts[alert_id].state == "pending"


async def test_only_a_pending_alert_is_approved(
    alerts: AlertService, store: FakeStore, publisher: RecordingPublisher
) -> None:
    alert_id = await created(alerts, store)
    await alerts.approve(APPROVER, alert_id)
    sent = len(publisher.sent)
    with pytest.raises(AlertNotPending) as again:
        await alerts.approve(uuid.uuid4(), alert_id)
    assert (again.value.status_code, again.value.detail) == (
        409,
        "The alert is approved; only a pending alert can be approved.",
    )
    assert len(publisher.sent) == sent


async def test_paused_notifications_send_nothing_and_leave_it_pending(
    alerts: AlertService, store: FakeStore, publisher: RecordingPublisher
) -> None:
    alert_id = await created(alerts, store)
    store.state.settings[NOTIFICATIONS_KEY] = {"paused": True}
    with pytest.raises(NotificationsPaused) as paused:
        await alerts.approve(APPROVER, alert_id)
    assert paused.value.status_code == 409
    assert publisher.sent == []
    assert store.state.alerts[alert_id].state == "pending"
    # Unpaused, the same alert goes out.
    store.state.settings[NOTIFICATIONS_KEY] = {"paused": False}
    assert (await alerts.approve(APPROVER, alert_id)).state == "approved"


async def test_a_failed_publish_leaves_the_alert_pending_and_unaudited_and_a_retry_repeats_it(
    alerts: AlertService, store: FakeStore, publisher: RecordingPublisher
) -> None:
    alert_id = await created(alerts, store, found=2)
    audited = list(store.state.audit)
    publisher.failing = Unavailable("The event stream is unavailable; retry shortly.")
    with pytest.raises(Unavailable):
        await alerts.approve(APPROVER, alert_id)
    assert store.state.alerts[alert_id].state == "pending"
    assert store.state.audit == audited  # the unit of work rolled back

    publisher.failing = None
    await alerts.approve(APPROVER, alert_id)
    assert [c.event_id for c in publisher.events] == [
        command_id(alert_id, str(p.person_id)) for p in store.state.present
    ]


async def test_withdrawing_an_approved_alert_sends_one_revert_under_the_alert(
    alerts: AlertService, store: FakeStore, publisher: RecordingPublisher
) -> None:
    alert_id = await created(alerts, store, found=4)
    await alerts.approve(APPROVER, alert_id)
    publisher.sent.clear()
    someone = uuid.uuid4()

    withdrawn = await alerts.withdraw(someone, alert_id)

    assert (withdrawn.state, withdrawn.withdrawn_by) == ("withdrawn", someone)
    [sent] = publisher.sent
    assert sent.key == str(alert_id).encode()
    [revert] = sent.events
    assert isinstance(revert, StatusRevert)
    assert (revert.event_id, revert.data.alert_id, revert.data.requested_by) == (
        command_id(alert_id, "revert"),
        alert_id,
        someone,
    )
    last = store.state.audit[-1]
    assert (last.action, last.count, last.detail) == (AuditAction.ALERT_WITHDRAWN, 4, {"was": "approved"})


async def test_withdrawing_a_pending_alert_sends_nothing_and_twice_is_refused(
    alerts: AlertService, store: FakeStore, publisher: RecordingPublisher
) -> None:
    alert_id = await created(alerts, store, found=4)
    await alerts.withdraw(CREATOR, alert_id)
    assert publisher.sent == []
    last = store.state.audit[-1]
    assert (last.count, last.detail) == (0, {"was": "pending"})
    with pytest.raises(AlertAlreadyWithdrawn):
        await alerts.withdraw(CREATOR, alert_id)
    with pytest.raises(AlertNotPending):
        await alerts.approve(APPROVER, alert_id)


async def test_an_unknown_alert_is_not_found(alerts: AlertService) -> None:
    for act in (alerts.show, alerts.approve, alerts.withdraw):
        with pytest.raises(AlertNotFound) as missing:
            await act(APPROVER, uuid.uuid4())
        assert (missing.value.status_code, missing.value.detail) == (404, "No venue alert has this id.")


async def test_showing_an_alert_is_an_audited_read(alerts: AlertService, store: FakeStore) -> None:
    alert_id = await created(alerts, store, found=2)
    shown = await alerts.show(APPROVER, alert_id)
    assert shown == store.state.alerts[alert_id]
    last = store.state.audit[-1]
    assert (last.actor_id, last.action, last.count, last.query_id) == (
        APPROVER,
        AuditAction.ALERT_VIEW,
        2,
        alert_id,
    )

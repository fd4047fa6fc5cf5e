"""Venue alerts end to end: tracing and status together over Kafka (real Postgres, Redis, tansu).

The two-person rule, the status commands an approval sends, and a withdrawal that takes back
the alert's own changes while leaving a person changed by something else in between alone.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.status.app import create_app as status_app
from services.status.config import Settings as StatusSettings
from services.status.models import StatusRecord
from services.tracing.app import create_app as tracing_app
from services.tracing.config import Settings as TracingSettings
from shared.auth import AccessTokens
from shared.events import CHECKINS_TOPIC, STATUS_COMMANDS_TOPIC, StatusSet, StatusSetData
from shared.keys import load_keys
from shared.settings import InfraSettings
from tests.integration.tracing.kafka_tools import send
from tests.integration.tracing.timeline import base_time, checkin, checkout, minutes
from tests.waiting import eventually

ALERTS = "/api/tracing/v1/venue-alerts"


async def test_two_people_approve_and_a_withdrawal_restores_only_the_alerts_changes(
    infra: InfraSettings, serve: Any
) -> None:
    tokens = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 3600)

    def as_(person: UUID, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.issue(person, roles)}"}

    t0 = base_time()
    venue = uuid.uuid4()
    early, late, overtaken, before = (uuid.uuid4() for _ in range(4))
    creator = uuid.uuid4()
    epi = as_(creator, "epidemiologist", "health_authority")  # holds both roles: still one person
    other_epi = as_(uuid.uuid4(), "epidemiologist")
    authority_id = uuid.uuid4()
    authority = as_(authority_id, "health_authority")
    operator = as_(uuid.uuid4(), "operator")
    events = [
        checkin(before, venue, t0 - minutes(120)),
        checkout(before, venue, t0 - minutes(90)),  # gone before the window opens
        checkin(early, venue, t0 - minutes(30)),  # still there when it opens (60-minute stay)
        checkin(late, venue, t0 + minutes(50)),
        checkin(overtaken, venue, t0 + minutes(10)),
    ]
    body = {"venue_id": str(venue), "from": t0.isoformat(), "to": (t0 + minutes(60)).isoformat()}

    status = status_app(StatusSettings(infra=infra))
    async with serve(status), serve(tracing_app(TracingSettings(infra=infra))) as tracing:
        store = status.state.services.store
        await send(infra, CHECKINS_TOPIC, events, key=venue.bytes)

        async def all_in() -> bool:
            span = {"from": (t0 - minutes(180)).isoformat(), "to": (t0 + minutes(120)).isoformat()}
            answer = await tracing.get(f"/api/tracing/v1/venues/{venue}/presence", params=span, headers=epi)
            return len(answer.json()["checkins"]) == 4

        await eventually(all_in, timeout_s=30, what="the four check-ins stored")
        created = await tracing.post(ALERTS, json=body, headers=epi)
        assert created.status_code == 201, created.text
        alert = created.json()
        alert_id = alert["alert_id"]
        assert alert["state"] == "pending"
        assert (alert["colour"], alert["reason"]) == ("yellow", "risk_area_visit")
        assert sorted(p["person_id"] for p in alert["people"]) == sorted(map(str, (early, late, overtaken)))
        assert alert["people_count"] == 3

        own = await tracing.post(f"{ALERTS}/{alert_id}/approvals", headers=epi)
        not_authority = await tracing.post(f"{ALERTS}/{alert_id}/approvals", headers=other_epi)
        assert await store.current(early) is None  # nobody changed before the second signature
        approved = await tracing.post(f"{ALERTS}/{alert_id}/approvals", headers=authority)
        again = await tracing.post(f"{ALERTS}/{alert_id}/approvals", headers=authority)
        assert own.status_code == 403, own.text
        assert "Two-person rule" in own.json()["detail"]
        assert not_authority.status_code == 403
        assert approved.status_code == 200, approved.text
        assert approved.json()["state"] == "approved"
        assert approved.json()["approved_by"] == str(authority_id)
        assert again.status_code == 409

        async def at(person: UUID, version: int) -> StatusRecord:
            found: list[StatusRecord] = []

            async def reached() -> bool:
                record = await store.current(person)
                found[:] = [record] if record is not None and record.version >= version else []
                return bool(found)

            await eventually(reached, timeout_s=30, what=f"{person} at version {version}")
            return found[0]

        for person in (early, late, overtaken):
            record = await at(person, 1)
            assert (record.colour, record.reason) == ("yellow", "risk_area_visit")
        # Something else changes one of them after the alert: a contact query's notification.
        other = StatusSet(
            data=StatusSetData(
                person_id=overtaken, colour="red", reason="suspected_case", requested_by=uuid.uuid4()
            )
        )
        await send(infra, STATUS_COMMANDS_TOPIC, [other], key=str(overtaken).encode())
        await at(overtaken, 2)

        withdrawn = await tracing.post(f"{ALERTS}/{alert_id}/withdrawal", headers=other_epi)
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["state"] == "withdrawn"
        for person in (early, late):
            record = await at(person, 2)
            assert (record.colour, record.reason, record.version) == ("green", "none", 2)
        kept = await store.current(overtaken)
        assert (kept.colour, kept.reason, kept.version) == ("red", "suspected_case", 2)
        twice = await tracing.post(f"{ALERTS}/{alert_id}/withdrawal", headers=other_epi)
        assert twice.status_code == 409
        shown = await tracing.get(f"{ALERTS}/{alert_id}", headers=authority)
        citizen = await tracing.get(f"{ALERTS}/{alert_id}", headers=as_(uuid.uuid4()))
        audit = await tracing.get(
            "/api/tracing/v1/audit",
            params={"from": t0.isoformat(), "to": datetime.now(UTC).isoformat()},
            headers=operator,
        )

    assert shown.json()["state"] == "withdrawn"
    assert citizen.status_code == 403
    trail = [
        (e["action"], e["subject_id"], e["count"])
        for e in audit.json()["entries"]
        if e["query_id"] == alert_id
    ]
    acts = [a for a, _, _ in trail]
    assert acts.count("venue_alert_created") == 1
    assert acts.count("venue_alert_approved") == 1
    assert acts.count("venue_alert_withdrawn") == 1
    changed = sorted(s for a, s, _ in trail if a == "venue_alert_person_changed")
    assert changed == sorted(map(str, (early, late, overtaken)))
    assert ("venue_alert_approved", None, 3) in trail


async def test_a_pending_alert_withdrawn_cannot_be_approved_and_a_pause_holds_approvals(
    infra: InfraSettings, serve: Any
) -> None:
    tokens = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 3600)
    epi = {"Authorization": f"Bearer {tokens.issue(uuid.uuid4(), ['epidemiologist'])}"}
    authority = {"Authorization": f"Bearer {tokens.issue(uuid.uuid4(), ['health_authority'])}"}
    operator = {"Authorization": f"Bearer {tokens.issue(uuid.uuid4(), ['operator'])}"}
    t0 = base_time()
    body = {"venue_id": str(uuid.uuid4()), "from": t0.isoformat(), "to": (t0 + minutes(60)).isoformat()}
    async with serve(tracing_app(TracingSettings(infra=infra))) as tracing:
        created = await tracing.post(ALERTS, json=body, headers=epi)
        alert_id = created.json()["alert_id"]
        withdrawn = await tracing.post(f"{ALERTS}/{alert_id}/withdrawal", headers=authority)
        approve = await tracing.post(f"{ALERTS}/{alert_id}/approvals", headers=authority)
        by_citizen = await tracing.post(ALERTS, json=body, headers={})
        bad = await tracing.post(ALERTS, json={**body, "to": body["from"]}, headers=epi)
        unknown = await tracing.get(f"{ALERTS}/{uuid.uuid4()}", headers=epi)
        nonsense = await tracing.post(f"{ALERTS}/nope/approvals", headers=authority)
        # The operator's pause holds approvals back as it holds notifications.
        held = (await tracing.post(ALERTS, json=body, headers=epi)).json()["alert_id"]
        pending_list = await tracing.get(ALERTS, params={"state": "pending"}, headers=authority)
        withdrawn_list = await tracing.get(ALERTS, params={"state": "withdrawn"}, headers=epi)
        every = await tracing.get(ALERTS, headers=authority)
        odd_state = await tracing.get(ALERTS, params={"state": "lost"}, headers=authority)
        citizen_list = await tracing.get(
            ALERTS, headers={"Authorization": f"Bearer {tokens.issue(uuid.uuid4(), [])}"}
        )
        await tracing.put("/api/tracing/v1/settings/notifications", json={"paused": True}, headers=operator)
        paused = await tracing.post(f"{ALERTS}/{held}/approvals", headers=authority)
        await tracing.put("/api/tracing/v1/settings/notifications", json={"paused": False}, headers=operator)
        resumed = await tracing.post(f"{ALERTS}/{held}/approvals", headers=authority)
    assert created.status_code == 201
    assert created.json()["people"] == []
    assert withdrawn.json()["state"] == "withdrawn"
    assert withdrawn.json()["approved_by"] is None
    assert approve.status_code == 409
    assert by_citizen.status_code == 401
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["to"]
    assert unknown.status_code == 404
    assert nonsense.status_code == 404
    assert [a["alert_id"] for a in pending_list.json()["alerts"]] == [held]
    assert [a["alert_id"] for a in withdrawn_list.json()["alerts"]] == [alert_id]
    assert [a["alert_id"] for a in every.json()["alerts"]] == [held, alert_id]  # newest first
    assert every.json()["alerts"][0]["people_count"] == 0
    summary = {"alert_id", "venue_id", "venue_name", "from", "to", "state", "created_by", "created_at"}
    assert set(every.json()["alerts"][0]) == {*summary, "people_count"}
    assert [e["field"] for e in odd_state.json()["errors"]] == ["state"]
    assert citizen_list.status_code == 403
    assert paused.status_code == 409
    assert "paused" in paused.json()["detail"]
    assert resumed.json()["state"] == "approved"

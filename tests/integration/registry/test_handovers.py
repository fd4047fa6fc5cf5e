"""Issue 16: handing a venue over (offer, accept, decline, cancel, expiry) and operator reassignment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.registry.app import create_app
from services.registry.handovers import HANDOVER_TTL
from shared.events import VenueHandedOver, VenuePosterPrinted
from tests.integration.registry.conftest import sign_up
from tests.integration.registry.test_roles import operator_headers

API = "/api/registry/v1"


async def _venue(client, admin, name: str = "開平百貨") -> str:
    body = {"region_code": "440783", "name": name, "address": "长沙街道幕沙路1号"}
    answer = await client.post(f"{API}/venues", json=body, headers=admin.auth)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["venue_id"])


async def test_offer_by_phone_accepted_moves_the_venue_and_announces_it(client, reader):
    old = await sign_up(client, "陳大文")
    new = await sign_up(client, "李小紅", phone="13900139001")
    venue_id = await _venue(client, old)
    offered = await client.post(
        f"{API}/venues/{venue_id}/handovers", json={"to_phone": "139 0013 9001"}, headers=old.auth
    )
    assert offered.status_code == 201, offered.text
    offer = offered.json()
    assert offer["state"] == "pending"
    assert offer["kind"] == "offer"
    assert offer["to_person_id"] == new.person_id
    assert offer["to_masked_name"] == "李*紅"
    assert offer["from_masked_name"] == "陳*文"
    created = datetime.fromisoformat(offer["created_at"])
    assert datetime.fromisoformat(offer["expires_at"]) - created == HANDOVER_TTL

    incoming = (await client.get(f"{API}/handovers/incoming", headers=new.auth)).json()["handovers"]
    assert [h["handover_id"] for h in incoming] == [offer["handover_id"]]
    assert (await client.get(f"{API}/handovers/incoming", headers=old.auth)).json() == {"handovers": []}

    accepted = await client.post(f"{API}/handovers/{offer['handover_id']}/accept", headers=new.auth)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted"
    mine = await client.get(f"{API}/venues/mine", headers=new.auth)
    assert mine.status_code == 200
    assert mine.json()["venue_id"] == venue_id
    assert (await client.get(f"{API}/venues/mine", headers=old.auth)).status_code == 404
    # The old administrator can set up another venue now; the new one is the administrator.
    rotate = await client.post(f"{API}/venues/{venue_id}/declaration-code/rotate", headers=old.auth)
    assert rotate.status_code == 403

    events = await reader.wait_for(lambda es: any(isinstance(e, VenueHandedOver) for e in es))
    (handed,) = [e for _, e in events if isinstance(e, VenueHandedOver)]
    assert handed.data.model_dump(mode="json") == {
        "venue_id": venue_id,
        "from_administrator_id": old.person_id,
        "to_administrator_id": new.person_id,
        "handover_id": offer["handover_id"],
        "kind": "accepted_offer",
        "requested_by": old.person_id,
    }
    history = (await client.get(f"{API}/venues/{venue_id}/handovers", headers=new.auth)).json()["handovers"]
    assert [(h["kind"], h["state"]) for h in history] == [("offer", "accepted")]
    assert history[0]["decided_at"] is not None


async def test_only_the_administrator_offers(client):
    admin, stranger = await sign_up(client), await sign_up(client)
    target = await sign_up(client, phone="13900139002")
    venue_id = await _venue(client, admin)
    body = {"to_person_id": target.person_id}
    answer = await client.post(f"{API}/venues/{venue_id}/handovers", json=body, headers=stranger.auth)
    assert answer.status_code == 403
    unknown = await client.post(
        f"{API}/venues/0192f0c8-0000-7000-8000-00000000dead/handovers", json=body, headers=admin.auth
    )
    assert unknown.status_code == 404


async def test_only_the_named_account_accepts_or_declines(client):
    admin, target, other = await sign_up(client), await sign_up(client), await sign_up(client)
    venue_id = await _venue(client, admin)
    offer = (
        await client.post(
            f"{API}/venues/{venue_id}/handovers", json={"to_person_id": target.person_id}, headers=admin.auth
        )
    ).json()
    for who in (other, admin):
        for verb in ("accept", "decline"):
            answer = await client.post(f"{API}/handovers/{offer['handover_id']}/{verb}", headers=who.auth)
            assert answer.status_code == 403, (who.name, verb)
    # The one who offered may cancel; the named account may not.
    cancel = await client.post(f"{API}/handovers/{offer['handover_id']}/cancel", headers=target.auth)
    assert cancel.status_code == 403
    declined = await client.post(f"{API}/handovers/{offer['handover_id']}/decline", headers=target.auth)
    assert declined.json()["state"] == "declined"
    again = await client.post(f"{API}/handovers/{offer['handover_id']}/accept", headers=target.auth)
    assert again.status_code == 409
    mine = await client.get(f"{API}/venues/mine", headers=admin.auth)
    assert mine.json()["venue_id"] == venue_id


async def test_one_pending_offer_at_a_time_and_cancel_frees_it(client):
    admin, one, two = await sign_up(client), await sign_up(client), await sign_up(client)
    venue_id = await _venue(client, admin)
    url = f"{API}/venues/{venue_id}/handovers"
    first = await client.post(url, json={"to_person_id": one.person_id}, headers=admin.auth)
    assert first.status_code == 201
    second = await client.post(url, json={"to_person_id": two.person_id}, headers=admin.auth)
    assert second.status_code == 409
    cancelled = await client.post(f"{API}/handovers/{first.json()['handover_id']}/cancel", headers=admin.auth)
    assert cancelled.json()["state"] == "cancelled"
    third = await client.post(url, json={"to_person_id": two.person_id}, headers=admin.auth)
    assert third.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "to_phone"),
        (
            {"to_phone": "13900139003", "to_person_id": "0192f0c8-0000-7000-8000-000000000001"},
            422,
            "to_phone",
        ),
        ({"to_phone": "12"}, 422, "phone"),
        ({"to_phone": "13911111111"}, 404, None),
        ({"to_person_id": "0192f0c8-0000-7000-8000-00000000beef"}, 404, None),
    ],
)
async def test_bad_recipients(client, body, status, field):
    admin = await sign_up(client)
    venue_id = await _venue(client, admin)
    answer = await client.post(f"{API}/venues/{venue_id}/handovers", json=body, headers=admin.auth)
    assert answer.status_code == status, answer.text
    if field:
        assert answer.json()["errors"][0]["field"] == field


async def test_not_to_oneself_nor_to_another_administrator(client):
    admin, busy = await sign_up(client), await sign_up(client)
    venue_id = await _venue(client, admin)
    await _venue(client, busy, "另一間店")
    url = f"{API}/venues/{venue_id}/handovers"
    own = await client.post(url, json={"to_person_id": admin.person_id}, headers=admin.auth)
    assert own.status_code == 422
    taken = await client.post(url, json={"to_person_id": busy.person_id}, headers=admin.auth)
    assert taken.status_code == 409


async def test_an_expired_offer_cannot_be_accepted(settings, serve):
    app = create_app(settings)
    async with serve(app) as client:
        admin, target = await sign_up(client), await sign_up(client)
        venue_id = await _venue(client, admin)
        offer = (
            await client.post(
                f"{API}/venues/{venue_id}/handovers",
                json={"to_person_id": target.person_id},
                headers=admin.auth,
            )
        ).json()
        later = datetime.now(UTC) + HANDOVER_TTL + timedelta(minutes=1)
        app.state.services.handovers.clock = lambda: later
        answer = await client.post(f"{API}/handovers/{offer['handover_id']}/accept", headers=target.auth)
        assert answer.status_code == 410
        assert (await client.get(f"{API}/handovers/incoming", headers=target.auth)).json() == {
            "handovers": []
        }
        # The expired offer no longer blocks a new one.
        again = await client.post(
            f"{API}/venues/{venue_id}/handovers", json={"to_person_id": target.person_id}, headers=admin.auth
        )
        assert again.status_code == 201
        assert (await client.get(f"{API}/venues/mine", headers=admin.auth)).json()["venue_id"] == venue_id
        history = (await client.get(f"{API}/venues/{venue_id}/handovers", headers=admin.auth)).json()
        assert [h["state"] for h in history["handovers"]] == ["pending", "expired"]


async def test_operator_reassigns_and_cancels_the_pending_offer(client, infra, reader):
    admin, target, other = await sign_up(client), await sign_up(client), await sign_up(client)
    venue_id = await _venue(client, admin)
    offer = (
        await client.post(
            f"{API}/venues/{venue_id}/handovers", json={"to_person_id": target.person_id}, headers=admin.auth
        )
    ).json()
    operator = operator_headers(infra, other.person_id)
    moved = await client.post(
        f"{API}/venues/{venue_id}/administrator", json={"to_person_id": other.person_id}, headers=operator
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["kind"] == "reassignment"
    assert moved.json()["state"] == "done"
    assert moved.json()["requested_by"] == other.person_id
    assert (await client.get(f"{API}/venues/mine", headers=other.auth)).json()["venue_id"] == venue_id
    late = await client.post(f"{API}/handovers/{offer['handover_id']}/accept", headers=target.auth)
    assert late.status_code == 409
    history = (await client.get(f"{API}/venues/{venue_id}/handovers", headers=operator)).json()["handovers"]
    assert [(h["kind"], h["state"]) for h in history] == [("reassignment", "done"), ("offer", "cancelled")]
    events = await reader.wait_for(lambda es: any(isinstance(e, VenueHandedOver) for e in es))
    (handed,) = [e for _, e in events if isinstance(e, VenueHandedOver)]
    assert handed.data.kind == "operator_reassignment"
    assert str(handed.data.to_administrator_id) == other.person_id


async def test_only_operators_reassign(client):
    admin, target = await sign_up(client), await sign_up(client)
    venue_id = await _venue(client, admin)
    body = {"to_person_id": target.person_id}
    for who in (admin, target):
        answer = await client.post(f"{API}/venues/{venue_id}/administrator", json=body, headers=who.auth)
        assert answer.status_code == 403
    history = await client.get(f"{API}/venues/{venue_id}/handovers", headers=target.auth)
    assert history.status_code == 403


async def test_first_download_of_a_poster_version_is_announced_once(client, reader):
    admin = await sign_up(client)
    venue_id = await _venue(client, admin)
    mine = (await client.get(f"{API}/venues/mine", headers=admin.auth)).json()
    bound = await client.post(
        f"{API}/inspector-bindings", json={"declaration_code": mine["declaration_code"]}, headers=admin.auth
    )
    assert bound.status_code == 201
    for fmt in ("pdf", "png"):
        code = await client.get(f"{API}/venues/{venue_id}/code", params={"format": fmt}, headers=admin.auth)
        assert code.status_code == 200
    await client.post(f"{API}/venues/{venue_id}/poster/reissue", headers=admin.auth)
    await client.get(f"{API}/venues/{venue_id}/code", params={"format": "svg"}, headers=admin.auth)
    events = await reader.wait_for(lambda es: sum(isinstance(e, VenuePosterPrinted) for e in es) >= 2)
    printed = [e.data for _, e in events if isinstance(e, VenuePosterPrinted)]
    assert [(str(p.venue_id), p.poster_version, p.format) for p in printed] == [
        (venue_id, 1, "pdf"),
        (venue_id, 2, "svg"),
    ]

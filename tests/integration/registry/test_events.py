"""What the registry puts on venuecode.registry.v1, and what it never puts there or in its logs."""

from __future__ import annotations

import logging
import uuid

import asyncpg

from services.registry.app import create_app
from shared.events import REGISTRY_TOPIC, VenueRegistered, VenueRegisteredData, encode
from shared.keys import load_keys
from shared.pii import Vault, mask_id
from tests.integration.registry.conftest import sign_up
from tests.unit.registry.idgen import child_id, mainland_id
from tests.waiting import eventually


def of_type(events, kind):
    return [e for e in events if e.type == kind]


async def test_every_change_is_on_the_topic_with_its_key(client, infra, reader):
    admin = await sign_up(client, "張三明")
    inspector = await sign_up(client, "李四")
    venue = (
        await client.post(
            "/api/registry/v1/venues",
            json={"region_code": "440305", "name": "甲餐廳", "category": "restaurant"},
            headers=admin.auth,
        )
    ).json()
    vid = venue["venue_id"]
    await client.post(
        "/api/registry/v1/inspector-bindings",
        json={"declaration_code": venue["declaration_code"]},
        headers=inspector.auth,
    )
    await client.patch(f"/api/registry/v1/venues/{vid}", json={"name": "乙餐廳"}, headers=admin.auth)
    await client.post(f"/api/registry/v1/venues/{vid}/poster/reissue", headers=admin.auth)
    await client.delete(f"/api/registry/v1/venues/{vid}/inspectors/{inspector.person_id}", headers=admin.auth)
    child = child_id()
    dependent = (
        await client.post(
            "/api/registry/v1/dependents",
            json={"name": "張小明", "id_kind": "mainland_id", "id_number": child, "relation": "child"},
            headers=admin.auth,
        )
    ).json()

    wanted = {
        "venue.registered",
        "inspector.bound",
        "venue.renamed",
        "venue.poster_reissued",
        "inspector.unbound",
        "guardian.linked",
    }
    keyed = await reader.wait_for(lambda events: wanted <= {e.type for e in events})
    events = [e for _, e in keyed]
    keys = {e.event_id: k for k, e in keyed}

    people = of_type(events, "person.registered")
    assert {str(e.data.person_id) for e in people} == {
        admin.person_id,
        inspector.person_id,
        dependent["person_id"],
    }
    vault = Vault(load_keys(infra).pii, load_keys(infra).pii_hmac)
    mine = next(e for e in people if str(e.data.person_id) == admin.person_id)
    assert keys[mine.event_id] == admin.person_id.encode()
    assert mine.data.id_kind == "mainland_id"
    assert mine.data.birth_date.strftime("%Y%m%d") == admin.id_number[6:14]
    assert mine.data.masked_name == "張*明"
    assert mine.data.masked_id == mask_id(admin.id_number)
    assert mine.data.id_digest == vault.id_digest("mainland_id", admin.id_number)
    assert mine.data.name_digest == vault.name_digest("張三明")

    (registered,) = of_type(events, "venue.registered")
    assert keys[registered.event_id] == vid.encode()
    assert str(registered.data.administrator_id) == admin.person_id
    assert registered.data.category == "restaurant"
    assert registered.data.typical_stay_minutes == 90
    assert registered.data.poster_version == 1
    assert registered.data.region_code == "440305"
    (bound,) = of_type(events, "inspector.bound")
    assert (str(bound.data.venue_id), str(bound.data.person_id)) == (vid, inspector.person_id)
    assert keys[bound.event_id] == vid.encode()
    (renamed,) = of_type(events, "venue.renamed")
    assert renamed.data.name == "乙餐廳"
    (reissued,) = of_type(events, "venue.poster_reissued")
    assert reissued.data.poster_version == 2
    (unbound,) = of_type(events, "inspector.unbound")
    assert str(unbound.data.person_id) == inspector.person_id
    (linked,) = of_type(events, "guardian.linked")
    assert (str(linked.data.guardian_id), str(linked.data.person_id), linked.data.relation) == (
        admin.person_id,
        dependent["person_id"],
        "child",
    )
    assert keys[linked.event_id] == dependent["person_id"].encode()


async def test_no_identity_number_or_name_in_logs_or_on_the_topic(client, infra, reader, caplog):
    caplog.set_level(logging.DEBUG)
    names = ["歐陽建國", "Maria Gonzalez"]
    numbers = [mainland_id(), child_id()]
    first = await sign_up(client, names[0], numbers[0])
    await client.post("/api/registry/v1/sessions", json={"id_number": numbers[0], "password": "wrong horse"})
    await client.post(
        "/api/registry/v1/dependents",
        json={"name": names[1], "id_kind": "mainland_id", "id_number": numbers[1], "relation": "other"},
        headers=first.auth,
    )
    await reader.wait_for(lambda events: len([e for e in events if e.type == "person.registered"]) == 2)
    on_topic = b"\n".join(reader.raw).decode()
    logged = "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records)
    assert caplog.records  # the capture really saw the run
    for text in (on_topic, logged):
        for number in numbers:
            assert number not in text
            assert number[:6] + number[6:14] not in text
        for name in names:
            assert name not in text


async def test_the_relay_sends_what_a_failed_publish_left_behind(settings, serve, infra, reader):
    """A row written with its change but never sent (the broker was down) goes out later."""
    event = VenueRegistered(
        data=VenueRegisteredData(
            venue_id=uuid.uuid4(), region_code="440305", name="甲", category="other", poster_version=1
        )
    )
    app = create_app(settings)
    async with serve(app):
        conn = await asyncpg.connect(infra.postgres_url)
        try:
            await conn.execute(
                "INSERT INTO registry.outbox (topic, key, payload, created_at)"
                " VALUES ($1, $2, $3, now() - interval '1 minute')",
                REGISTRY_TOPIC,
                str(event.data.venue_id).encode(),
                encode(event).decode(),
            )
            keyed = await reader.wait_for(lambda events: any(e.event_id == event.event_id for e in events))
            assert next(e for _, e in keyed if e.event_id == event.event_id) == event
            await eventually(
                lambda: conn.fetchval("SELECT count(*) = 0 FROM registry.outbox WHERE sent_at IS NULL"),
                timeout_s=10,
                what="the relayed row marked sent",
            )
            # Sent rows are pruned after their retention; unsent ones never are.
            assert await app.state.services.outbox.prune(older_than_s=0) >= 1
            assert await conn.fetchval("SELECT count(*) FROM registry.outbox") == 0
        finally:
            await conn.close()

"""Tracing's read models of registry with an in-memory store: each event once, and the visit
length a venue gets when registry sends none."""

from __future__ import annotations

import uuid

from services.tracing.readmodel import CATEGORY_STAY_MINUTES, RegistryProjection
from shared.events import (
    CheckinRecorded,
    PersonRegistered,
    PersonRegisteredData,
    VenueRegistered,
    VenueRegisteredData,
    VenueRenamed,
    VenueRenamedData,
)
from tests.integration.tracing.timeline import checkin
from tests.unit.tracing.fakes import T0, FakeStore


def venue(category: str, stay: int | None = None) -> VenueRegistered:
    return VenueRegistered(
        data=VenueRegisteredData(
            venue_id=uuid.uuid4(),
            region_code="440305",
            name="Nanshan market",
            category=category,
            poster_version=1,
            typical_stay_minutes=stay,
        )
    )


async def test_a_venue_without_a_typical_stay_gets_its_categorys() -> None:
    store = FakeStore()
    registry = RegistryProjection(store.as_store())
    market, own, other = venue("Market"), venue("market", stay=25), venue("aquarium")

    for event in (market, own, other):
        assert await registry.apply(event) is True

    stays = {v: store.state.venues[v].typical_stay_minutes for v in store.state.venues}
    assert stays == {
        market.data.venue_id: CATEGORY_STAY_MINUTES["market"],
        own.data.venue_id: 25,
        other.data.venue_id: None,  # the contact rules' 60 minutes then apply
    }


async def test_each_event_applies_once_and_others_are_ignored() -> None:
    store = FakeStore()
    registry = RegistryProjection(store.as_store())
    market = venue("market")
    renamed = VenueRenamed(data=VenueRenamedData(venue_id=market.data.venue_id, name="East market"))
    person = PersonRegistered(
        data=PersonRegisteredData(
            person_id=uuid.uuid4(),
            id_kind="passport",
            birth_date=None,
            masked_name="L** M**",
            masked_id="E1****89",
            id_digest="d1",
            name_digest="n1",
        )
    )

    assert [await registry.apply(e) for e in (market, renamed, person)] == [True, True, True]
    assert [await registry.apply(e) for e in (market, renamed, person)] == [False, False, False]
    stray: CheckinRecorded = checkin(uuid.uuid4(), market.data.venue_id, T0)
    assert await registry.apply(stray) is False  # type: ignore[arg-type]

    assert store.state.venues[market.data.venue_id].name == "East market"
    assert store.state.people["d1"].masked_id == "E1****89"
    assert len(store.state.claimed) == 3

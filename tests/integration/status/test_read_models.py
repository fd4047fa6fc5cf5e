"""The read models built from registry events: other types ignored, poison parked, order by time."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from shared.events import (
    REGISTRY_TOPIC,
    InspectorBindingData,
    InspectorBound,
    InspectorUnbound,
    VenueRegistered,
    VenueRegisteredData,
    dlq,
    topic,
)
from tests.integration.status.conftest import StatusHarness
from tests.waiting import eventually


async def test_other_types_are_ignored_and_poison_is_parked(harness: StatusHarness) -> None:
    venue = uuid4()
    runtime = harness.app.state.services.runtime
    target = topic(REGISTRY_TOPIC, harness.infra.kafka.namespace)
    await runtime.router.broker.publish(b'{"type": "person.exploded"}', target, key=str(venue).encode())
    other = VenueRegistered(
        data=VenueRegisteredData(
            venue_id=venue, region_code="440106", name="x", category="", poster_version=1
        )
    )
    await harness.publish_registry(other, venue)
    person = await harness.register()  # still processed after both
    assert await harness.app.state.services.store.person(person.person_id) is not None
    parked = await harness.topic_events(dlq(REGISTRY_TOPIC), lambda seen: len(seen) >= 1)
    assert parked == [b'{"type": "person.exploded"}']


async def test_late_bound_event_does_not_undo_a_newer_unbinding(harness: StatusHarness) -> None:
    person_id, venue = uuid4(), uuid4()
    data = InspectorBindingData(venue_id=venue, person_id=person_id)
    unbound = InspectorUnbound(data=data)
    bound = InspectorBound(data=data, occurred_at=unbound.occurred_at - timedelta(seconds=5))
    await harness.publish_registry(unbound, venue)
    await harness.publish_registry(bound, venue)
    store = harness.app.state.services.store
    pool = harness.app.state.services.runtime.pool

    async def both_handled() -> bool:
        return await pool.fetchval("SELECT count(*) FROM status.processed_events") >= 2

    await eventually(both_handled)
    assert not await store.is_inspector(person_id)

"""Issue 16: the rules of handing a venue over, with in-memory collaborators and a moved clock."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from services.registry.errors import (
    AmbiguousPhone,
    HandoverDecided,
    HandoverExpired,
    HandoverPending,
    NotHandoverRecipient,
    NotVenueAdministrator,
    RecipientAdministers,
    RecipientNotFound,
)
from services.registry.handovers import HANDOVER_TTL, HandoverService
from services.registry.venues import VenueService
from shared.errors import InvalidValue, Unavailable
from shared.events import REGISTRY_TOPIC, VenueHandedOver
from shared.outbox import Outbox
from tests.unit.registry.fakes import NOW, FakeStore, RecordingPublisher
from tests.unit.registry.test_venue_rules import SIGNER


class World:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.publisher = RecordingPublisher(REGISTRY_TOPIC)
        self.outbox = Outbox("registry", self.store.outbox, [self.publisher])  # type: ignore[arg-type]
        self.now = NOW
        self.handovers = HandoverService(self.store, self.outbox, lambda: self.now)  # type: ignore[arg-type]
        self.venues = VenueService(self.store, self.outbox, SIGNER, "https://vc.example/")  # type: ignore[arg-type]

    async def person(self, n: int, phone: str = "13800138000") -> UUID:
        person_id = UUID(int=n)
        await self.store.people.insert(
            person_id=person_id,
            id_kind="passport",
            id_cipher=b"",
            id_digest=f"digest-{n}",
            masked_id="E*******1",
            masked_name=f"P*{n}",
            name=f"Person {n}",
            name_digest=f"name-{n}",
            birth_date=None,
            phone=phone,
            password_hash="hash",
        )
        return person_id

    async def venue(self, admin: UUID, name: str = "开平百货") -> UUID:
        made = await self.venues.create(admin, "440783", name, "长沙街道幕沙路1号", None)
        return made.venue_id

    def handed(self) -> list[VenueHandedOver]:
        return [e for _, e in self.publisher.sent if isinstance(e, VenueHandedOver)]


async def test_offer_by_phone_and_accept_moves_the_administrator_and_announces_it() -> None:
    w = World()
    old, new = await w.person(1), await w.person(2, "13900139001")
    venue = await w.venue(old)
    offer = await w.handovers.offer(old, venue, "139-0013-9001", None)
    assert (offer.state, offer.to_id, offer.expires_at) == ("pending", new, NOW + HANDOVER_TTL)
    assert w.handed() == []  # nothing is announced before the answer
    done = await w.handovers.accept(new, offer.handover_id)
    assert done.state == "accepted"
    assert (await w.store.venues.by_id(venue)).administrator_id == new  # type: ignore[union-attr]
    (event,) = w.handed()
    assert (event.data.from_administrator_id, event.data.to_administrator_id) == (old, new)
    assert (event.data.kind, event.data.requested_by) == ("accepted_offer", old)


async def test_only_the_administrator_offers_and_only_the_named_account_answers() -> None:
    w = World()
    admin, target, other = await w.person(1), await w.person(2, "1"), await w.person(3, "2")
    venue = await w.venue(admin)
    with pytest.raises(NotVenueAdministrator):
        await w.handovers.offer(other, venue, None, target)
    offer = await w.handovers.offer(admin, venue, None, target)
    for who in (admin, other):
        with pytest.raises(NotHandoverRecipient):
            await w.handovers.accept(who, offer.handover_id)
        with pytest.raises(NotHandoverRecipient):
            await w.handovers.decline(who, offer.handover_id)
    with pytest.raises(NotHandoverRecipient):
        await w.handovers.cancel(target, offer.handover_id)
    assert (await w.handovers.decline(target, offer.handover_id)).state == "declined"
    with pytest.raises(HandoverDecided):
        await w.handovers.accept(target, offer.handover_id)


async def test_one_pending_offer_and_an_expired_one_frees_the_venue() -> None:
    w = World()
    admin, one, two = await w.person(1), await w.person(2, "1"), await w.person(3, "2")
    venue = await w.venue(admin)
    first = await w.handovers.offer(admin, venue, None, one)
    with pytest.raises(HandoverPending):
        await w.handovers.offer(admin, venue, None, two)
    w.now = NOW + HANDOVER_TTL  # the instant it lapses
    with pytest.raises(HandoverExpired):
        await w.handovers.accept(one, first.handover_id)
    assert (await w.store.handovers.by_id(first.handover_id)).state == "expired"  # type: ignore[union-attr]
    assert (await w.handovers.offer(admin, venue, None, two)).state == "pending"
    assert w.handed() == []


async def test_recipient_rules() -> None:
    w = World()
    admin, busy = await w.person(1, "13700000001"), await w.person(2, "13700000002")
    await w.person(3, "13700000009"), await w.person(4, "13700000009")
    venue = await w.venue(admin)
    await w.venue(busy, "另一间店")
    with pytest.raises(InvalidValue):
        await w.handovers.offer(admin, venue, None, None)
    with pytest.raises(InvalidValue):
        await w.handovers.offer(admin, venue, "13700000002", busy)
    with pytest.raises(InvalidValue):
        await w.handovers.offer(admin, venue, None, admin)
    with pytest.raises(RecipientAdministers):
        await w.handovers.offer(admin, venue, None, busy)
    with pytest.raises(AmbiguousPhone):
        await w.handovers.offer(admin, venue, "13700000009", None)
    with pytest.raises(RecipientNotFound):
        await w.handovers.offer(admin, venue, "999999", None)
    with pytest.raises(RecipientNotFound):
        await w.handovers.offer(admin, venue, None, UUID(int=99))


async def test_reassignment_cancels_the_pending_offer_and_is_announced() -> None:
    w = World()
    admin, target, operator = await w.person(1, "1"), await w.person(2, "2"), await w.person(3, "3")
    venue = await w.venue(admin)
    offer = await w.handovers.offer(admin, venue, None, target)
    w.now = NOW + timedelta(hours=1)
    done = await w.handovers.reassign(operator, venue, None, operator)
    assert (done.kind, done.state, done.requested_by) == ("reassignment", "done", operator)
    assert (await w.store.handovers.by_id(offer.handover_id)).state == "cancelled"  # type: ignore[union-attr]
    with pytest.raises(RecipientAdministers):
        await w.handovers.reassign(operator, venue, None, operator)
    (event,) = w.handed()
    assert event.data.kind == "operator_reassignment"
    history = await w.handovers.history(operator, venue, operator=True)
    assert [(h.kind, h.state) for h in history] == [("reassignment", "done"), ("offer", "cancelled")]
    with pytest.raises(NotVenueAdministrator):
        await w.handovers.history(admin, venue, operator=False)


async def test_a_broker_down_at_accept_keeps_the_change_for_the_relay() -> None:
    w = World()
    admin, target = await w.person(1, "1"), await w.person(2, "2")
    venue = await w.venue(admin)
    offer = await w.handovers.offer(admin, venue, None, target)
    w.publisher.down = True
    with pytest.raises(Unavailable):
        await w.handovers.accept(target, offer.handover_id)
    # Committed before the send: the venue moved and the event waits in the outbox.
    assert (await w.store.venues.by_id(venue)).administrator_id == target  # type: ignore[union-attr]
    assert any("venue.handed_over" in row.payload for row in w.store.tables.outbox.values())

"""Family consent (issue 17) with in-memory collaborators: who is linked at once, who must accept,
ages by the day in Asia/Shanghai, and who may end a link."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from services.registry.errors import (
    NameDoesNotMatch,
    NeedsOwnConsent,
    NoSuchLink,
    NotYourOwnDependent,
    PersonNotFound,
)
from services.registry.family import FamilyService
from services.registry.identity import FormatOnlyVerifier
from services.registry.service import insert_person
from shared.events import REGISTRY_TOPIC, GuardianLinked, GuardianUnlinked, PersonRegistered
from shared.outbox import Outbox
from shared.pii import Vault
from tests.unit.registry.fakes import FakeStore, RecordingPublisher
from tests.unit.registry.idgen import mainland_id

# 16:30 UTC on 2 June is 00:30 on 3 June in Shanghai: the days differ.
LATE_EVENING_UTC = datetime(2026, 6, 2, 16, 30, tzinfo=UTC)
RNG = random.Random(17)


class World:
    def __init__(self, now: datetime = LATE_EVENING_UTC) -> None:
        self.store = FakeStore()
        self.publisher = RecordingPublisher(REGISTRY_TOPIC)
        self.vault = Vault(b"k" * 32, b"h" * 32)
        self.family = FamilyService(
            store=self.store,  # type: ignore[arg-type]
            vault=self.vault,
            verifier=FormatOnlyVerifier(),
            outbox=Outbox("registry", self.store.outbox, [self.publisher]),  # type: ignore[arg-type]
            timezone="Asia/Shanghai",
            clock=lambda: now,
        )

    async def person(self, name: str, born: date, *, account: bool) -> tuple[UUID, str]:
        number = mainland_id(born, RNG)
        async with self.store.unit() as unit:
            person = await insert_person(
                unit,  # type: ignore[arg-type]
                self.vault,
                "mainland_id",
                number,
                name,
                phone="13800138000" if account else None,
                password_hash="argon2-hash" if account else None,
            )
        assert person is not None
        return person.person_id, number

    def nothing_written_beyond(self, people: int) -> None:
        assert len(self.store.tables.people) == people
        assert self.store.tables.links == {}
        assert self.store.tables.outbox == {}
        assert self.publisher.sent == []


async def test_a_child_without_an_account_is_linked_at_once_and_announced() -> None:
    world = World()
    guardian, _ = await world.person("張父", date(1980, 1, 1), account=True)
    number = mainland_id(date(2016, 3, 1), RNG)

    found, created = await world.family.add(guardian, "張小明", "mainland_id", number, "child")

    assert created
    assert found.state == "active"
    assert found.relation == "child"
    assert found.masked_name == "張*明"
    assert found.birth_date == date(2016, 3, 1)
    assert world.publisher.types() == ["person.registered", "guardian.linked"]
    registered, linked = (e for _, e in world.publisher.sent)
    assert isinstance(registered, PersonRegistered)
    assert isinstance(linked, GuardianLinked)
    assert linked.data.guardian_id == guardian
    assert linked.data.person_id == found.person_id
    assert {key for key, _ in world.publisher.sent} == {str(found.person_id).encode()}
    assert world.store.tables.sent == set(world.store.tables.outbox)  # both rows marked sent
    # The number is neither in the event nor stored readable.
    assert number not in registered.model_dump_json()


async def test_adding_again_changes_nothing() -> None:
    world = World()
    guardian, _ = await world.person("張父", date(1980, 1, 1), account=True)
    number = mainland_id(date(2016, 3, 1), RNG)
    await world.family.add(guardian, "張小明", "mainland_id", number, "child")

    again, created = await world.family.add(guardian, "張小明", "mainland_id", number, "child")

    assert not created
    assert again.state == "active"
    assert len(world.publisher.sent) == 2


async def test_an_adult_without_an_account_must_register_and_nothing_is_written() -> None:
    world = World()
    guardian, _ = await world.person("張父", date(1980, 1, 1), account=True)

    with pytest.raises(NeedsOwnConsent):
        await world.family.add(guardian, "張成年", "mainland_id", mainland_id(date(1990, 5, 5), RNG), "other")

    world.nothing_written_beyond(people=1)


@pytest.mark.parametrize(
    ("born", "allowed"),
    [
        (date(2008, 6, 3), False),  # 18 on 3 June: in Shanghai already (UTC still says 17)
        (date(2008, 6, 4), True),  # 18 tomorrow in Shanghai: still a minor
        (date(1966, 6, 3), True),  # 60 today in Shanghai: an elder (UTC still says 59)
        (date(1966, 6, 4), False),  # 60 tomorrow: not yet
    ],
)
async def test_guardianship_by_age_on_the_day_in_shanghai(born: date, allowed: bool) -> None:
    world = World()
    guardian, _ = await world.person("張父", date(1985, 1, 1), account=True)
    number = mainland_id(born, RNG)

    if allowed:
        found, created = await world.family.add(guardian, "王某某", "mainland_id", number, "other")
        assert created
        assert found.state == "active"
    else:
        with pytest.raises(NeedsOwnConsent):
            await world.family.add(guardian, "王某某", "mainland_id", number, "other")
        world.nothing_written_beyond(people=1)


async def test_a_person_with_an_account_gets_a_request_only_they_can_accept() -> None:
    world = World()
    guardian, _ = await world.person("張父", date(1980, 1, 1), account=True)
    # A child with an account of their own is asked too: an account means consent is theirs.
    child, number = await world.person("張小明", date(2015, 1, 1), account=True)

    pending, created = await world.family.add(guardian, "張小明", "mainland_id", number, "child")

    assert created
    assert pending.state == "pending"
    assert pending.person_id == child
    assert world.publisher.sent == []  # a request is not announced: nobody may act yet
    with pytest.raises(NoSuchLink):  # the guardian cannot accept on the person's behalf
        await world.family.accept(guardian, child)

    accepted = await world.family.accept(child, guardian)

    assert accepted.state == "active"
    assert accepted.guardian_id == guardian
    assert world.publisher.types() == ["guardian.linked"]
    with pytest.raises(NoSuchLink):  # nothing is pending any more
        await world.family.accept(child, guardian)


async def test_nobody_adds_themselves_or_a_number_under_another_name() -> None:
    world = World()
    guardian, own = await world.person("張父", date(1980, 1, 1), account=True)
    _, childs = await world.person("張小明", date(2016, 1, 1), account=False)

    with pytest.raises(NotYourOwnDependent):
        await world.family.add(guardian, "張父", "mainland_id", own, "other")
    with pytest.raises(NameDoesNotMatch):
        await world.family.add(guardian, "李小明", "mainland_id", childs, "child")
    world.nothing_written_beyond(people=2)


async def test_a_vanished_guardian_adds_nobody() -> None:
    world = World()
    with pytest.raises(PersonNotFound):
        await world.family.add(
            UUID(int=1), "張小明", "mainland_id", mainland_id(date(2016, 3, 1), RNG), "child"
        )
    world.nothing_written_beyond(people=0)


@pytest.mark.parametrize("by_guardian", [True, False])
async def test_either_side_ends_an_active_link_and_it_is_announced(by_guardian: bool) -> None:
    world = World()
    guardian, _ = await world.person("張父", date(1980, 1, 1), account=True)
    found, _ = await world.family.add(
        guardian, "張小明", "mainland_id", mainland_id(date(2016, 3, 1), RNG), "child"
    )
    world.publisher.sent.clear()

    await world.family.end(guardian, found.person_id, by_guardian=by_guardian)

    assert await world.family.dependents(guardian) == []
    ((_, ended),) = world.publisher.sent
    assert isinstance(ended, GuardianUnlinked)
    assert ended.data.ended_by == ("guardian" if by_guardian else "person")
    assert (ended.data.guardian_id, ended.data.person_id) == (guardian, found.person_id)


async def test_a_stranger_cannot_end_a_link_and_a_pending_one_ends_silently() -> None:
    world = World()
    guardian, _ = await world.person("張父", date(1980, 1, 1), account=True)
    stranger, _ = await world.person("李四", date(1981, 1, 1), account=True)
    adult, number = await world.person("張成年", date(1990, 1, 1), account=True)
    await world.family.add(guardian, "張成年", "mainland_id", number, "child")

    with pytest.raises(NoSuchLink):  # a link is ended only by its guardian or its person
        await world.family.end(stranger, adult, by_guardian=True)
    assert [d.person_id for d in await world.family.dependents(guardian)] == [adult]

    await world.family.end(guardian, adult, by_guardian=False)  # the person declines

    assert await world.family.guardians(adult) == []
    assert world.publisher.sent == []  # the request never let anyone act: nothing to undo

"""The rule of assisted registration: the card's birth date agrees with the number's, and the age fits."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime

import pytest

from services.registry.assisted import AssistedRegistrations, check_assistable
from services.registry.errors import AlreadyRegistered, BirthDateMismatch, NotAnInspector, NotAssistable
from services.registry.identity import FormatOnlyVerifier
from shared.events import REGISTRY_TOPIC, PersonRegistered
from shared.outbox import Outbox
from shared.pii import Vault, mask_id
from tests.unit.registry.fakes import FakeStore, RecordingPublisher
from tests.unit.registry.idgen import mainland_id

TODAY = date(2026, 12, 6)


def test_an_elder_and_a_sixteen_year_old_are_registered() -> None:
    for born in (date(1966, 12, 6), date(2010, 1, 1), date(2009, 12, 7)):
        assert check_assistable(born, born, TODAY) == born


def test_a_birth_date_that_differs_from_the_number_s_names_the_field() -> None:
    with pytest.raises(BirthDateMismatch) as refused:
        check_assistable(date(1948, 3, 9), date(1948, 3, 10), TODAY)
    assert [e["field"] for e in refused.value.errors] == ["birth_date"]
    with pytest.raises(BirthDateMismatch):
        check_assistable(None, date(1948, 3, 9), TODAY)


@pytest.mark.parametrize("born", [date(2009, 12, 6), date(1966, 12, 7), date(1990, 5, 5)])
def test_a_seventeen_year_old_or_an_adult_under_sixty_registers_themself(born: date) -> None:
    with pytest.raises(NotAssistable):
        check_assistable(born, born, TODAY)


# --- the service over in-memory collaborators --------------------------------------------

# 16:30 UTC on 2 June is 00:30 on 3 June in Shanghai: ages change at Shanghai's midnight.
LATE_EVENING_UTC = datetime(2026, 6, 2, 16, 30, tzinfo=UTC)
INSPECTOR, VENUE = uuid.uuid4(), uuid.uuid4()
RNG = random.Random(16)


class World:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.store.tables.bindings[(VENUE, INSPECTOR)] = LATE_EVENING_UTC
        self.publisher = RecordingPublisher(REGISTRY_TOPIC)
        self.vault = Vault(b"k" * 32, b"h" * 32)
        self.assisted = AssistedRegistrations(
            store=self.store,  # type: ignore[arg-type]
            vault=self.vault,
            verifier=FormatOnlyVerifier(),
            outbox=Outbox("registry", self.store.outbox, [self.publisher]),  # type: ignore[arg-type]
            timezone="Asia/Shanghai",
            clock=lambda: LATE_EVENING_UTC,
        )


async def test_a_registration_is_stored_audited_and_announced_without_the_number() -> None:
    world = World()
    born = date(1950, 6, 3)
    number = mainland_id(born, RNG)
    done = await world.assisted.register(INSPECTOR, " 黃老伯 ", number, born)
    person = done.person
    assert (person.masked_name, person.masked_id, person.birth_date) == ("黃*伯", mask_id(number), born)
    assert person.password_hash is None  # nobody can sign in as them until they register
    assert world.store.tables.assisted == {person.person_id: (INSPECTOR, done.registered_at)}
    [(key, event)] = world.publisher.sent
    assert key == str(person.person_id).encode()
    assert isinstance(event, PersonRegistered)
    assert event.data.id_digest == world.vault.id_digest("mainland_id", number)
    assert number not in event.model_dump_json()
    assert "黃老伯" not in event.model_dump_json()


async def test_the_age_is_counted_on_the_day_in_shanghai() -> None:
    # 17 on 3 June: already the next day in Shanghai, though 2 June in UTC.
    world = World()
    born = date(2009, 6, 3)
    with pytest.raises(NotAssistable):
        await world.assisted.register(INSPECTOR, "陳小華", mainland_id(born, RNG), born)
    born = date(2009, 6, 4)  # 16 until tomorrow
    done = await world.assisted.register(INSPECTOR, "陳小華", mainland_id(born, RNG), born)
    assert done.person.birth_date == born


async def test_refusals_leave_nothing_behind() -> None:
    world = World()
    born = date(1950, 1, 1)
    number = mainland_id(born, RNG)
    with pytest.raises(NotAnInspector):
        await world.assisted.register(uuid.uuid4(), "黃老伯", number, born)
    assert world.store.tables.people == {}
    await world.assisted.register(INSPECTOR, "黃老伯", number, born)
    with pytest.raises(AlreadyRegistered) as again:
        await world.assisted.register(INSPECTOR, "黃老伯", number, born)
    assert again.value.status_code == 409
    assert len(world.store.tables.people) == len(world.store.tables.assisted) == 1
    assert len(world.publisher.sent) == 1

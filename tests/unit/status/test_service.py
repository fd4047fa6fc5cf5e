"""The status rules with in-memory collaborators (tests/unit/status/fakes.py): the colour cache
being down, the outbox (write, send, relay, prune), paper-code serials, assisted-lookup eligibility
on the day in Asia/Shanghai, and one handling per command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.status.codes import HealthCodes
from services.status.errors import ColourCacheDown, LookupAgeRefused, TokenRevoked
from services.status.lookup import AssistedLookup
from services.status.service import StatusService
from shared.errors import Unavailable
from shared.events import (
    STATUS_TOPIC,
    PaperCodeIssued,
    PersonRegistered,
    PersonRegisteredData,
    StatusChanged,
    StatusSet,
    StatusSetData,
)
from shared.keys import SigningKeys
from shared.outbox import Outbox
from shared.pii import Vault
from shared.tokens import TokenSigner
from tests.people import mainland_id
from tests.unit.status.fakes import FakeCache, FakeLimiter, FakeStore, ManualClock, RecordingPublisher

GRACE_S = 5.0
RETENTION_S = 3600.0
VAULT = Vault(cipher_key=b"c" * 32, digest_key=b"d" * 32)


@dataclass
class World:
    clock: ManualClock
    store: FakeStore
    cache: FakeCache
    publisher: RecordingPublisher
    outbox: Outbox
    status: StatusService

    def codes(self) -> HealthCodes:
        signer = TokenSigner(SigningKeys(Ed25519PrivateKey.generate()))
        return HealthCodes(self.store, self.status, signer, 60)  # type: ignore[arg-type]

    def lookup(self) -> AssistedLookup:
        return AssistedLookup(self.store, self.status, VAULT, FakeLimiter(), "Asia/Shanghai")  # type: ignore[arg-type]

    async def register(self, born: date | None = None, name: str = "陳大文") -> UUID:
        person_id, _ = await self.register_with_number(born, name)
        return person_id

    async def register_with_number(self, born: date | None = None, name: str = "陳大文") -> tuple[UUID, str]:
        """A person.registered as the registry sends it; the person's id and identity number."""
        person_id = uuid4()
        number = mainland_id(born or date(1990, 5, 1))
        data = PersonRegisteredData(
            person_id=person_id,
            id_kind="mainland_id",
            id_digest=VAULT.id_digest("mainland_id", number),
            name_digest=VAULT.name_digest(name),
            birth_date=born,
            masked_name="陳*文",
            masked_id=number[:2] + "*" * 15 + number[-1],
        )
        await self.status.apply_registry_event(PersonRegistered(data=data))
        return person_id, number


def build(start: datetime | None = None) -> World:
    clock = ManualClock(start)
    store = FakeStore(clock)
    cache = FakeCache()
    publisher = RecordingPublisher(STATUS_TOPIC)
    outbox = Outbox("status", store.outbox, [publisher], min_age_s=GRACE_S, retention_s=RETENTION_S)  # type: ignore[list-item]
    status = StatusService(store, cache, outbox, clock)  # type: ignore[arg-type]
    return World(clock, store, cache, publisher, outbox, status)


async def set_red(world: World, person_id: UUID) -> None:
    await world.status.set_by_authority(
        uuid4(), person_id, colour="red", reason="confirmed_case", valid_until=None, note=None
    )


# --- the colour cache --------------------------------------------------------------------


async def test_a_change_reaches_the_cache_then_the_topic_and_its_row_is_marked_sent() -> None:
    world = build()
    person = await world.register()
    await set_red(world, person)
    assert world.cache.colours[person].colour == "red"
    [(key, [event])] = world.publisher.sent
    assert key == str(person).encode()
    assert isinstance(event, StatusChanged)
    assert (event.data.colour, event.data.version) == ("red", 1)
    assert world.store.outbox.unsent_ids() == []


async def test_with_the_cache_down_a_change_is_kept_answered_503_and_the_cache_refilled_later() -> None:
    world = build()
    person = await world.register()
    world.cache.warm = True
    world.cache.down = True
    with pytest.raises(ColourCacheDown) as refused:
        await set_red(world, person)
    assert refused.value.status == 503
    # Committed (Postgres is the truth), not announced yet: the row waits for the relay.
    current = await world.store.current(person)
    assert current is not None
    assert current.colour == "red"
    assert world.publisher.sent == []
    assert len(world.store.outbox.unsent_ids()) == 1
    # Redis is back with its warm marker still set: the missed write still forces a refill.
    world.cache.down = False
    assert await world.status.ensure_cache() == 1
    assert world.cache.colours[person].colour == "red"
    assert await world.status.ensure_cache() == 0  # caught up: nothing more to do
    world.clock.advance(timedelta(seconds=GRACE_S + 1))
    assert await world.outbox.relay() == 1
    assert [e.data.colour for e in world.publisher.events()] == ["red"]  # type: ignore[attr-defined]


async def test_a_cold_cache_is_refilled_with_every_recorded_colour() -> None:
    world = build()
    people = [await world.register() for _ in range(3)]
    for person in people:
        await set_red(world, person)
    world.cache.colours.clear()
    world.cache.warm = False
    assert await world.status.ensure_cache() == 3
    assert set(world.cache.colours) == set(people)
    assert world.cache.warm


# --- the outbox ----------------------------------------------------------------------------


async def test_with_the_broker_down_the_row_stays_and_the_relay_sends_it_once_old_enough() -> None:
    world = build()
    person = await world.register()
    world.publisher.down = True
    with pytest.raises(Unavailable):
        await set_red(world, person)
    [row_id] = world.store.outbox.unsent_ids()
    world.publisher.down = False
    assert await world.outbox.relay() == 0  # may still be in its request's own publish
    world.clock.advance(timedelta(seconds=GRACE_S + 1))
    assert await world.outbox.relay() == 1
    assert world.store.outbox.unsent_ids() == []
    assert await world.outbox.relay() == 0  # sent once
    assert len(world.publisher.sent) == 1
    assert world.store.outbox.rows[row_id].sent_at is not None


async def test_an_earlier_unsent_event_of_the_same_person_goes_out_first() -> None:
    world = build()
    person = await world.register()
    world.publisher.down = True
    with pytest.raises(Unavailable):
        await set_red(world, person)
    world.publisher.down = False
    await world.status.set_by_authority(
        uuid4(), person, colour="green", reason="none", valid_until=None, note=None
    )
    # One publish under the person's key, the older change first: green never overtakes red.
    [(key, events)] = world.publisher.sent
    assert key == str(person).encode()
    assert [(e.data.colour, e.data.version) for e in events] == [("red", 1), ("green", 2)]  # type: ignore[attr-defined]
    assert world.store.outbox.unsent_ids() == []


async def test_prune_deletes_only_rows_sent_longer_ago_than_the_retention() -> None:
    world = build()
    sent, unsent = await world.register(), await world.register()
    await set_red(world, sent)
    world.publisher.down = True
    with pytest.raises(Unavailable):
        await set_red(world, unsent)
    world.publisher.down = False
    assert await world.outbox.prune() == 0  # sent just now: kept for the retention
    world.clock.advance(timedelta(seconds=RETENTION_S + 1))
    assert await world.outbox.prune() == 1
    # The unsent row is never pruned, however old: the relay still owes it.
    assert len(world.store.outbox.rows) == 1
    assert world.store.outbox.unsent_ids() == list(world.store.outbox.rows)


# --- paper codes -----------------------------------------------------------------------------


async def test_paper_serials_count_up_and_each_card_is_announced_and_revokes_the_last() -> None:
    world = build()
    person, inspector = await world.register(), uuid4()
    async with world.store.unit() as unit:
        await unit.set_binding(inspector, uuid4(), True, world.clock.now())
    codes = world.codes()
    first = await codes.paper_code(person, person)
    second = await codes.paper_code(person, person)
    assert (first.serial, second.serial) == (1, 2)
    issued = [e for e in world.publisher.events() if isinstance(e, PaperCodeIssued)]
    assert [(e.data.person_id, e.data.serial) for e in issued] == [(person, 1), (person, 2)]
    assert {key for key, _ in world.publisher.sent} == {str(person).encode()}
    with pytest.raises(TokenRevoked):
        await codes.verify(inspector, first.token)
    shown = await codes.verify(inspector, second.token)
    assert (shown.person_id, shown.token_kind, shown.shown.colour) == (person, "paper", "green")
    assert [a for a in world.store.state.audits if a[0] == "verify"] == [
        ("verify", "revoked"),
        ("verify", "shown"),
    ]


# --- assisted lookup ---------------------------------------------------------------------------

# 17:00 UTC on 1 March is already 01:00 on 2 March in Asia/Shanghai: "the day asked".
ASKED = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("born", "allowed"),
    [
        (date(1966, 3, 2), True),  # 60 on the day in Shanghai (still 59 by the UTC date)
        (date(1966, 3, 3), False),  # 59 until tomorrow
        (date(1930, 1, 1), True),
        (date(2009, 3, 3), True),  # 16 until tomorrow: 16 or under
        (date(2010, 3, 2), True),  # turned 16 today
        (date(2009, 3, 2), False),  # 17 on the day in Shanghai (still 16 by the UTC date)
        (date(1990, 5, 1), False),
    ],
)
async def test_assisted_lookup_is_for_60_or_over_or_16_or_under_on_the_day_in_shanghai(
    born: date, allowed: bool
) -> None:
    world = build(ASKED)
    _, number = await world.register_with_number(born, name="王小明")
    lookup = world.lookup()
    if allowed:
        answer = await lookup.lookup(uuid4(), "王小明", number)
        assert (answer.masked_name, answer.shown.colour) == ("陳*文", "green")
        assert world.store.state.audits[-1] == ("lookup", "found")
    else:
        with pytest.raises(LookupAgeRefused):
            await lookup.lookup(uuid4(), "王小明", number)
        assert world.store.state.audits[-1] == ("lookup", "age_refused")


# --- commands ------------------------------------------------------------------------------------


async def test_a_command_is_applied_once_and_never_lowers_a_colour_in_force() -> None:
    world = build()
    person = await world.register()
    red = StatusSet(
        data=StatusSetData(person_id=person, colour="red", reason="confirmed_case", requested_by=uuid4())
    )
    assert await world.status.apply_command(red) is not None
    assert await world.status.apply_command(red) is None  # redelivered: handled once
    world.clock.advance(timedelta(minutes=1))
    yellow = StatusSet(
        data=StatusSetData(person_id=person, colour="yellow", reason="close_contact", requested_by=uuid4())
    )
    assert await world.status.apply_command(yellow) is None  # lower than red, which is in force
    current = await world.store.current(person)
    assert current is not None
    assert (current.colour, current.version) == ("red", 1)
    assert [h.version for h in await world.store.history(person)] == [1]

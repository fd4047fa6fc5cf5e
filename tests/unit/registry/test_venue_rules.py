"""Venue registration, declaration codes and inspector bindings with in-memory collaborators."""

from __future__ import annotations

from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.registry import declaration, venues
from services.registry.errors import (
    AccountGone,
    NotBound,
    NotVenueAdministrator,
    NotVenueInspector,
    UnknownDeclarationCode,
    VenueAlreadyAdministered,
    VenueNameTaken,
)
from services.registry.models import Category
from services.registry.venues import VenueService
from shared.errors import InvalidValue, Unavailable
from shared.events import REGISTRY_TOPIC, InspectorBound, VenueRegistered
from shared.keys import SigningKeys
from shared.outbox import Outbox
from shared.tokens import TokenSigner
from tests.unit.registry.fakes import FakeStore, RecordingPublisher

SHENZHEN = "440305"
SIGNER = TokenSigner(SigningKeys(Ed25519PrivateKey.generate()))


class World:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.publisher = RecordingPublisher(REGISTRY_TOPIC)
        self.outbox = Outbox("registry", self.store.outbox, [self.publisher])  # type: ignore[arg-type]
        self.venues = VenueService(self.store, self.outbox, SIGNER, "https://vc.example/")  # type: ignore[arg-type]

    async def person(self, n: int) -> UUID:
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
            phone="13800138000",
            password_hash="hash",
        )
        return person_id


async def test_a_venue_is_registered_with_a_valid_code_and_announced() -> None:
    world = World()
    admin = await world.person(1)

    venue = await world.venues.create(admin, f" {SHENZHEN} ", "  深圳灣  餐廳 ", None, "Restaurant")

    assert (venue.region_code, venue.name, venue.category) == (SHENZHEN, "深圳灣 餐廳", Category.RESTAURANT)
    assert venue.administrator_id == admin
    assert venue.poster_version == 1
    assert declaration.normalise(venue.declaration_code) == venue.declaration_code  # its check holds
    ((key, event),) = world.publisher.sent
    assert isinstance(event, VenueRegistered)
    assert key == str(venue.venue_id).encode()
    assert event.data.typical_stay_minutes == 90
    assert event.data.administrator_id == admin


@pytest.mark.parametrize(
    ("field", "args"),
    [
        ("region_code", ("44030", "食堂", None, None)),
        ("region_code", ("990305", "食堂", None, None)),  # 99 is no province
        ("name", (SHENZHEN, "食", None, None)),  # one character: a full name has at least 2
        ("name", (SHENZHEN, "食" * 101, None, None)),
        ("address", (SHENZHEN, "食堂", "路" * 201, None)),
        ("category", (SHENZHEN, "食堂", None, "casino")),
    ],
)
async def test_bad_fields_are_named_and_nothing_is_written(
    field: str, args: tuple[str, str, str | None, str | None]
) -> None:
    world = World()
    admin = await world.person(1)

    with pytest.raises(InvalidValue) as refused:
        await world.venues.create(admin, *args)

    assert refused.value.errors[0]["field"] == field
    assert world.store.tables.venues == {}
    assert world.publisher.sent == []


async def test_the_bounds_of_a_name_are_allowed() -> None:
    world = World()
    two = await world.venues.create(await world.person(1), SHENZHEN, "食堂", None, None)
    hundred = await world.venues.create(await world.person(2), SHENZHEN, "食" * 100, "路" * 200, None)
    assert (len(two.name), len(hundred.name), two.category) == (2, 100, Category.OTHER)


async def test_a_duplicate_venue_is_refused_and_nothing_is_written() -> None:
    world = World()
    first = await world.venues.create(await world.person(1), SHENZHEN, "深圳灣餐廳", None, None)
    world.publisher.sent.clear()

    with pytest.raises(VenueNameTaken):  # the same full name in the same region, another admin
        await world.venues.create(await world.person(2), SHENZHEN, "深圳灣餐廳", None, None)
    with pytest.raises(VenueAlreadyAdministered):  # one administrator holds one venue
        await world.venues.create(first.administrator_id, "110101", "北京餐廳", None, None)

    assert list(world.store.tables.venues) == [first.venue_id]
    assert world.store.tables.outbox.keys() == {1}
    assert world.publisher.sent == []
    # The same name in another region is another venue.
    other = await world.venues.create(await world.person(3), "110101", "深圳灣餐廳", None, None)
    assert other.name == first.name


async def test_a_taken_declaration_code_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World()
    first = await world.venues.create(await world.person(1), SHENZHEN, "甲館", None, None)
    fresh = declaration.generate()
    drawn = iter([first.declaration_code, first.declaration_code, fresh])
    monkeypatch.setattr(venues.declaration, "generate", lambda: next(drawn))

    second = await world.venues.create(await world.person(2), SHENZHEN, "乙館", None, None)

    assert second.declaration_code == fresh


async def test_binding_by_declaration_code_in_any_case_and_once() -> None:
    world = World()
    venue = await world.venues.create(await world.person(1), SHENZHEN, "甲館", None, None)
    inspector = await world.person(2)
    code = venue.declaration_code
    world.publisher.sent.clear()

    bound, created = await world.venues.bind(inspector, f"{code[:5].lower()}-{code[5:]}")
    again, created_again = await world.venues.bind(inspector, code)

    assert (bound.venue_id, created, again.venue_id, created_again) == (
        venue.venue_id,
        True,
        venue.venue_id,
        False,
    )
    ((_, event),) = world.publisher.sent  # the repeat announces nothing
    assert isinstance(event, InspectorBound)
    assert event.data.person_id == inspector
    assert [b.venue_id for b in await world.venues.bindings(inspector)] == [venue.venue_id]


async def test_a_mistyped_or_unknown_code_binds_nothing() -> None:
    world = World()
    venue = await world.venues.create(await world.person(1), SHENZHEN, "甲館", None, None)
    inspector = await world.person(2)
    code = venue.declaration_code
    wrong_check = code[:-1] + ("0" if code[-1] != "0" else "1")

    for typed in (wrong_check, "ABC", declaration.generate()):
        with pytest.raises(UnknownDeclarationCode):
            await world.venues.bind(inspector, typed)
    with pytest.raises(AccountGone):
        await world.venues.bind(UUID(int=99), code)
    assert world.store.tables.bindings == {}


async def test_a_rotated_code_stops_binding_and_bindings_stay() -> None:
    world = World()
    admin = await world.person(1)
    venue = await world.venues.create(admin, SHENZHEN, "甲館", None, None)
    early, late = await world.person(2), await world.person(3)
    await world.venues.bind(early, venue.declaration_code)

    with pytest.raises(NotVenueAdministrator):
        await world.venues.rotate_code(venue.venue_id, early)
    new = await world.venues.rotate_code(venue.venue_id, admin)

    assert new != venue.declaration_code
    with pytest.raises(UnknownDeclarationCode):
        await world.venues.bind(late, venue.declaration_code)
    assert (await world.venues.bind(late, new))[1]
    assert await world.venues.bindings(early) != []


async def test_only_bound_inspectors_get_the_venue_code_and_only_the_admin_removes_them() -> None:
    world = World()
    admin = await world.person(1)
    venue = await world.venues.create(admin, SHENZHEN, "甲館", None, None)
    inspector, stranger = await world.person(2), await world.person(3)
    await world.venues.bind(inspector, venue.declaration_code)

    code = await world.venues.venue_code(inspector, venue.venue_id)
    assert code.url == f"https://vc.example/c/{code.token}"
    claim = SIGNER.open_venue_token(code.token)
    assert (claim.venue_id, claim.poster_version) == (venue.venue_id, 1)
    with pytest.raises(NotVenueInspector):
        await world.venues.venue_code(stranger, venue.venue_id)
    with pytest.raises(NotVenueAdministrator):
        await world.venues.remove_inspector(stranger, venue.venue_id, inspector)

    await world.venues.remove_inspector(admin, venue.venue_id, inspector)

    assert world.publisher.types()[-1] == "inspector.unbound"
    with pytest.raises(NotBound):
        await world.venues.leave(inspector, venue.venue_id)


async def test_a_change_is_kept_when_the_broker_is_down_and_sent_in_order_later() -> None:
    world = World()
    admin = await world.person(1)
    venue = await world.venues.create(admin, SHENZHEN, "甲館", None, None)
    world.publisher.down = True

    with pytest.raises(Unavailable):
        await world.venues.rename(venue.venue_id, admin, "乙館")

    assert (await world.store.venues.by_id(venue.venue_id)).name == "乙館"  # committed
    world.publisher.down = False
    await world.venues.reissue_poster(venue.venue_id, admin)
    # The rename left unsent goes first: a change never overtakes an older one of its venue.
    assert world.publisher.types() == ["venue.registered", "venue.renamed", "venue.poster_reissued"]
    assert world.store.tables.sent == set(world.store.tables.outbox)

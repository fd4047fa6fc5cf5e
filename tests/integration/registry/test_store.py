"""The registry store on the real Postgres: a broken constraint comes back as a typed outcome
or a named problem, and a unit of work survives the outcomes it can go on from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from services.registry import declaration
from services.registry.app import create_app
from services.registry.config import Settings
from services.registry.errors import AccountGone, VenueAlreadyAdministered, VenueNameTaken
from services.registry.models import Category, Venue
from services.registry.store import Store
from shared.events import REGISTRY_TOPIC, VenueRenamed, VenueRenamedData
from shared.ids import uuid7
from tests.integration.registry.conftest import Account, Serve, sign_up


@pytest.fixture
async def served(settings: Settings, serve: Serve) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with serve(app) as http:
        yield app, http


def _store(app: FastAPI) -> Store:
    store: Store = app.state.services.store
    return store


async def _venue(store: Store, admin: UUID, name: str, code: str) -> Venue | None:
    async with store.unit() as unit:
        return await unit.venues.insert(
            venue_id=uuid7(),
            region_code="440305",
            name=name,
            address=None,
            category=Category.OTHER,
            administrator_id=admin,
            declaration_code=code,
        )


async def test_a_taken_code_is_an_outcome_and_the_unit_goes_on(served) -> None:
    app, http = served
    store = _store(app)
    first: Account = await sign_up(http)
    second: Account = await sign_up(http)
    taken = await _venue(store, UUID(first.person_id), f"甲館 {uuid7()}", declaration.generate())
    assert taken is not None
    fresh = declaration.generate()
    name = f"乙館 {uuid7()}"

    async with store.unit() as unit:
        kept = {
            "region_code": "440305",
            "name": name,
            "address": None,
            "category": Category.OTHER,
            "administrator_id": UUID(second.person_id),
        }
        clash = await unit.venues.insert(venue_id=uuid7(), declaration_code=taken.declaration_code, **kept)
        venue = await unit.venues.insert(venue_id=uuid7(), declaration_code=fresh, **kept)
        staged = await unit.stage(
            REGISTRY_TOPIC, b"k", [VenueRenamed(data=VenueRenamedData(venue_id=uuid7(), name=name))]
        )

    assert clash is None
    assert venue is not None
    assert venue.declaration_code == fresh
    # Committed together: the venue and its outbox row.
    assert await store.venues.by_declaration_code(fresh) == venue
    assert len(staged.outbox_ids) == 1
    assert await store.venues.set_declaration_code(venue.venue_id, taken.declaration_code) is False
    assert (await store.venues.by_id(venue.venue_id)) == venue


async def test_broken_venue_rules_raise_their_problems(served) -> None:
    app, http = served
    store = _store(app)
    admin: Account = await sign_up(http)
    other: Account = await sign_up(http)
    name = f"丙館 {uuid7()}"
    assert await _venue(store, UUID(admin.person_id), name, declaration.generate()) is not None

    with pytest.raises(VenueAlreadyAdministered):
        await _venue(store, UUID(admin.person_id), f"丁館 {uuid7()}", declaration.generate())
    with pytest.raises(VenueNameTaken):
        await _venue(store, UUID(other.person_id), name, declaration.generate())
    with pytest.raises(AccountGone):
        await _venue(store, uuid7(), f"戊館 {uuid7()}", declaration.generate())
    assert await store.venues.of_administrator(UUID(other.person_id)) is None


async def test_a_second_person_with_one_identity_is_an_outcome(served) -> None:
    app, http = served
    store = _store(app)
    account: Account = await sign_up(http)
    person = await store.people.by_id(UUID(account.person_id))
    assert person is not None
    digest = app.state.services.runtime.vault.id_digest("mainland_id", account.id_number)

    async with store.unit() as unit:
        again = await unit.people.insert(
            person_id=uuid7(),
            id_kind="mainland_id",
            id_cipher=b"\x00",
            id_digest=digest,
            masked_id=person.masked_id,
            name="張三明",
            masked_name=person.masked_name,
            name_digest=person.name_digest,
            birth_date=None,
            phone=None,
            password_hash=None,
        )
        # The unit is still usable after the violation (a savepoint took it).
        found = await unit.people.by_digest(digest)

    assert again is None
    assert found == person

"""Assisted registration (老幼助查, issue 16): an inspector registers an elder or a child on the spot.

The people assisted lookup serves mostly have no phone, so they are often not registered. An
inspector bound to a venue registers them from name, mainland ID number and birth date (read
back from the person's card: the number's own birth date must agree). No phone and no password:
the record is like a family member's, claimable later when the person registers an account with
that number and name (``PeopleService.register_account``) or a guardian links them
(``FamilyService.add``). Every registration is audited (registry.assisted_registrations) and
announced as ``person.registered``, so status and checkin know the person at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID

from services.registry.errors import AlreadyRegistered, BirthDateMismatch, NotAnInspector, NotAssistable
from services.registry.family import day_in
from services.registry.identity import IdentityVerifier
from services.registry.models import Person
from services.registry.service import clean_name, insert_person, person_registered
from services.registry.store import Store
from shared.assisted import may_be_assisted
from shared.events import REGISTRY_TOPIC
from shared.outbox import Outbox
from shared.pii import Vault, birth_date_of

log = logging.getLogger("venuecode.registry.assisted")


@dataclass(frozen=True)
class AssistedRegistration:
    person: Person
    registered_by: UUID
    registered_at: datetime


def check_assistable(number_born: date | None, given_born: date, today: date) -> date:
    """The birth date, when the card's and the number's agree and the person is 60+ or 16-."""
    if number_born != given_born:
        raise BirthDateMismatch()
    if not may_be_assisted(given_born, today):
        raise NotAssistable()
    return given_born


@dataclass(frozen=True, kw_only=True)
class AssistedRegistrations:
    store: Store
    vault: Vault
    verifier: IdentityVerifier
    outbox: Outbox
    timezone: str  # ages change at midnight where the platform runs (Asia/Shanghai)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def register(self, inspector: UUID, name: str, number: str, born: date) -> AssistedRegistration:
        name = clean_name(name)
        number = await self.verifier.verify("mainland_id", number, name)
        check_assistable(birth_date_of("mainland_id", number), born, day_in(self.timezone, self.clock()))
        async with self.store.unit() as unit:
            if not await unit.assisted.inspects_any_venue(inspector):
                raise NotAnInspector()
            # None when the number is registered already, or a concurrent request registered it.
            person = await insert_person(unit, self.vault, "mainland_id", number, name)
            if person is None:
                raise AlreadyRegistered()
            at = await unit.assisted.record(person.person_id, inspector)
            event = person_registered(person.person_id, "mainland_id", number, name, self.vault)
            staged = await unit.stage(REGISTRY_TOPIC, str(person.person_id).encode(), [event])
        await self.outbox.send(staged)
        log.info(
            "assisted registration",
            extra={"person_id": str(person.person_id), "registered_by": str(inspector)},
        )
        return AssistedRegistration(person, inspector, at)

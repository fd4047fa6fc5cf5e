"""Family links and their consent (issue 17).

A guardian can read a person's health code, print their paper code (which revokes the person's
own card) and check them in. So a link to someone who has an account of their own is only a
request until that person accepts it in their account; a child or an elder without an account is
put under guardianship at once, and takes the record over when they later register (the link
then stays, and they can see and revoke it). Anyone else, an adult without an account or a
document that shows no birth date, must register and accept. Ending an active link announces
``guardian.unlinked``, which checkin and status apply to their read models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from services.registry.errors import (
    NameDoesNotMatch,
    NeedsOwnConsent,
    NoSuchLink,
    NotYourOwnDependent,
    PersonNotFound,
)
from services.registry.identity import IdentityVerifier
from services.registry.models import Dependent, Guardian, LinkState
from services.registry.service import clean_name, clean_relation, insert_person, person_registered
from services.registry.store import Store
from shared.events import (
    REGISTRY_TOPIC,
    GuardianLinked,
    GuardianLinkedData,
    GuardianUnlinked,
    GuardianUnlinkedData,
    IdKind,
    RegistryEvent,
)
from shared.outbox import Outbox
from shared.pii import Vault, age_on, birth_date_of

log = logging.getLogger("venuecode.registry.family")
# 未成年人保護法: a minor is under 18; 老年人權益保障法: an elder is 60 or over.
MINOR_UNDER, ELDER_FROM = 18, 60


def day_in(timezone: str, now: datetime | None = None) -> date:
    """The calendar day at ``now`` where the person lives (ages change at local midnight)."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def may_be_under_guardianship(born: date | None, day: date) -> bool:
    """A minor or an elder on ``day``; a document without a birth date proves neither."""
    if born is None:
        return False
    age = age_on(born, day)
    return age < MINOR_UNDER or age >= ELDER_FROM


class FamilyService:
    def __init__(
        self,
        *,
        store: Store,
        vault: Vault,
        verifier: IdentityVerifier,
        outbox: Outbox,
        timezone: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._vault = vault
        self._verifier = verifier
        self._outbox = outbox
        self._timezone = timezone
        self._clock = clock

    def _check_guardianship(self, born: date | None) -> None:
        if not may_be_under_guardianship(born, day_in(self._timezone, self._clock())):
            raise NeedsOwnConsent(
                f"Only a child under {MINOR_UNDER} or an elder of {ELDER_FROM} or over, as their"
                " resident ID shows, can be added without an account. Anyone else registers their"
                " own account first, then accepts your request there."
            )

    async def add(
        self, guardian_id: UUID, name: str, kind: IdKind, number: str, relation: str
    ) -> tuple[Dependent, bool]:
        """Link or ask to link a family member (registering a child or elder when new); True when new."""
        name = clean_name(name)
        relation = clean_relation(relation)
        number = await self._verifier.verify(kind, number, name)
        digest = self._vault.id_digest(kind, number)
        events: list[RegistryEvent] = []
        async with self._store.unit() as unit:
            if await unit.people.by_id(guardian_id) is None:
                raise PersonNotFound("The signed-in account no longer exists.")
            person = await unit.people.by_digest(digest)
            if person is None:
                self._check_guardianship(birth_date_of(kind, number))
                person = await insert_person(unit, self._vault, kind, number, name)
                if person is not None:
                    events.append(person_registered(person.person_id, kind, number, name, self._vault))
                else:  # a concurrent first registration of the same person: link to it
                    person = await unit.people.by_digest(digest)
                    assert person is not None
            if not events:
                if person.person_id == guardian_id:
                    raise NotYourOwnDependent("You cannot add yourself as a family member.")
                if person.name_digest != self._vault.name_digest(name):
                    raise NameDoesNotMatch("This identity is registered under another name.")
            state: LinkState = "pending" if person.password_hash is not None else "active"
            existing = await unit.family.dependent(guardian_id, person.person_id)
            if existing is None and state == "active":
                self._check_guardianship(person.birth_date)
            created = await unit.family.link(guardian_id, person.person_id, relation, state)
            if created and state == "active":
                link = GuardianLinkedData(
                    guardian_id=guardian_id, person_id=person.person_id, relation=relation
                )
                events.append(GuardianLinked(data=link))
            staged = (
                await unit.stage(REGISTRY_TOPIC, str(person.person_id).encode(), events) if events else None
            )
            found = await unit.family.dependent(guardian_id, person.person_id)
            assert found is not None
        if staged is not None:
            await self._outbox.send(staged)
        if created:
            log.info(
                "family link %s",
                found.state,
                extra={"guardian_id": str(guardian_id), "person_id": str(found.person_id)},
            )
        return found, created

    async def dependents(self, guardian_id: UUID) -> list[Dependent]:
        return await self._store.family.dependents_of(guardian_id)

    async def guardians(self, person_id: UUID) -> list[Guardian]:
        return await self._store.family.guardians_of(person_id)

    async def accept(self, person_id: UUID, guardian_id: UUID) -> Guardian:
        """The person accepts a guardian's request; 404 unless a request of that guardian is pending."""
        async with self._store.unit() as unit:
            if not await unit.family.accept(guardian_id, person_id):
                raise NoSuchLink("No request of this guardian is waiting for you.")
            found = await unit.family.guardian(guardian_id, person_id)
            assert found is not None
            link = GuardianLinkedData(guardian_id=guardian_id, person_id=person_id, relation=found.relation)
            staged = await unit.stage(REGISTRY_TOPIC, str(person_id).encode(), [GuardianLinked(data=link)])
        await self._outbox.send(staged)
        log.info("family link accepted", extra={"guardian_id": str(guardian_id), "person_id": str(person_id)})
        return found

    async def end(self, guardian_id: UUID, person_id: UUID, *, by_guardian: bool) -> None:
        """Decline, withdraw, revoke or unlink; only the end of an active link is announced."""
        async with self._store.unit() as unit:
            state = await unit.family.end(guardian_id, person_id)
            if state is None:
                raise NoSuchLink("There is no such family link.")
            staged = None
            if state == "active":
                ended = GuardianUnlinkedData(
                    guardian_id=guardian_id,
                    person_id=person_id,
                    ended_by="guardian" if by_guardian else "person",
                )
                staged = await unit.stage(
                    REGISTRY_TOPIC, str(person_id).encode(), [GuardianUnlinked(data=ended)]
                )
        if staged is not None:
            await self._outbox.send(staged)
        log.info(
            "family link ended",
            extra={"guardian_id": str(guardian_id), "person_id": str(person_id), "was": state},
        )

"""The rules of handing a venue over (issue 16).

The administrator offers the venue to another account (by phone or person id); only that account
accepts or declines; an offer is pending one at a time and expires after ``HANDOVER_TTL``. An
operator reassigns a venue directly (an administrator who left cannot offer). Both end in
``venue.handed_over``; the rows of ``registry.venue_handovers`` are the audit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.registry.errors import (
    AmbiguousPhone,
    HandoverDecided,
    HandoverExpired,
    HandoverNotFound,
    NotHandoverRecipient,
    NotVenueAdministrator,
    RecipientAdministers,
    RecipientNotFound,
    VenueNotFound,
)
from services.registry.models_handovers import Handover, HandoverState
from services.registry.service import clean_phone
from services.registry.store import Store, Unit
from shared.errors import InvalidValue
from shared.events import REGISTRY_TOPIC, VenueHandedOver, VenueHandedOverData
from shared.ids import uuid7
from shared.outbox import Outbox, Staged

log = logging.getLogger("venuecode.registry")
# A week: long enough for the new administrator to see the offer after a weekend, short enough
# that a forgotten offer does not block the next one for long (the old one can also be cancelled).
HANDOVER_TTL = timedelta(days=7)


def clean_recipient(phone: str | None, person_id: UUID | None) -> tuple[str | None, UUID | None]:
    """Exactly one of the two names the new administrator."""
    if (phone is None) == (person_id is None):
        raise InvalidValue("to_phone", "name the new administrator by to_phone or to_person_id (one of them)")
    return (None if phone is None else clean_phone(phone)), person_id


def handed_over(found: Handover) -> VenueHandedOver:
    return VenueHandedOver(
        data=VenueHandedOverData(
            venue_id=found.venue_id,
            from_administrator_id=found.from_id,
            to_administrator_id=found.to_id,
            handover_id=found.handover_id,
            kind="accepted_offer" if found.kind == "offer" else "operator_reassignment",
            requested_by=found.requested_by,
        )
    )


class HandoverService:
    def __init__(
        self, store: Store, outbox: Outbox, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._outbox = outbox
        self.clock = clock  # public: tests move it past an expiry

    async def _recipient(self, unit: Unit, phone: str | None, person_id: UUID | None) -> UUID:
        if person_id is not None:
            if not await unit.handovers.is_account(person_id):
                raise RecipientNotFound("No account has this person id.")
            return person_id
        assert phone is not None
        found = await unit.handovers.accounts_with_phone(phone)
        if not found:
            raise RecipientNotFound("No account has this phone number.")
        if len(found) > 1:
            raise AmbiguousPhone("Several accounts have this phone number: name the account by its id.")
        return found[0]

    async def _administrator(self, unit: Unit, venue_id: UUID) -> UUID:
        administrator = await unit.handovers.administrator_of(venue_id, for_update=True)
        if administrator is None:
            raise VenueNotFound("No venue has this id.")
        return administrator

    async def offer(
        self, caller: UUID, venue_id: UUID, to_phone: str | None, to_person_id: UUID | None
    ) -> Handover:
        phone, person_id = clean_recipient(to_phone, to_person_id)
        now = self.clock()
        async with self._store.unit() as unit:
            if await self._administrator(unit, venue_id) != caller:
                raise NotVenueAdministrator("Only the venue's administrator may hand it over.")
            to_id = await self._recipient(unit, phone, person_id)
            if to_id == caller:
                raise InvalidValue("to_phone", "that is your own account")
            if await unit.handovers.administers(to_id):
                raise RecipientAdministers("That account already administers a venue; one holds one.")
            await unit.handovers.close_pending(venue_id, now, expired_only=True)
            offer = await unit.handovers.insert(
                handover_id=uuid7(),
                venue_id=venue_id,
                kind="offer",
                from_id=caller,
                to_id=to_id,
                requested_by=caller,
                state="pending",
                now=now,
                expires_at=now + HANDOVER_TTL,
            )
        log.info(
            "venue handover offered", extra={"venue_id": str(venue_id), "handover_id": str(offer.handover_id)}
        )
        return offer

    async def accept(self, caller: UUID, handover_id: UUID) -> Handover:
        now = self.clock()
        async with self._store.unit() as unit:
            found = await self._answerable(unit, caller, handover_id, recipient=True)
            if found.expires_at <= now:
                await unit.handovers.set_state(handover_id, "expired", now)
                staged: Staged | None = None
            else:
                if await self._administrator(unit, found.venue_id) != found.from_id:
                    # A reassignment cancels pending offers, so this does not happen; kept honest.
                    raise HandoverDecided("The venue's administrator changed since the offer.")
                await unit.handovers.set_administrator(found.venue_id, caller)
                await unit.handovers.set_state(handover_id, "accepted", now)
                staged = await unit.stage(REGISTRY_TOPIC, str(found.venue_id).encode(), [handed_over(found)])
            done = await unit.handovers.by_id(handover_id)
        if staged is None:  # the expiry is committed first, then told
            raise HandoverExpired("This handover expired before it was accepted.")
        await self._outbox.send(staged)
        log.info(
            "venue handed over", extra={"venue_id": str(found.venue_id), "handover_id": str(handover_id)}
        )
        assert done is not None
        return done

    async def decline(self, caller: UUID, handover_id: UUID) -> Handover:
        return await self._end(caller, handover_id, recipient=True)

    async def cancel(self, caller: UUID, handover_id: UUID) -> Handover:
        return await self._end(caller, handover_id, recipient=False)

    async def _end(self, caller: UUID, handover_id: UUID, *, recipient: bool) -> Handover:
        now = self.clock()
        async with self._store.unit() as unit:
            found = await self._answerable(unit, caller, handover_id, recipient=recipient)
            state: HandoverState = (
                "expired" if found.expires_at <= now else ("declined" if recipient else "cancelled")
            )
            await unit.handovers.set_state(handover_id, state, now)
            ended = await unit.handovers.by_id(handover_id)
        assert ended is not None
        return ended

    async def _answerable(self, unit: Unit, caller: UUID, handover_id: UUID, *, recipient: bool) -> Handover:
        found = await unit.handovers.by_id(handover_id, for_update=True)
        if found is None:
            raise HandoverNotFound("No handover has this id.")
        if (found.to_id if recipient else found.from_id) != caller:
            raise NotHandoverRecipient(
                "Only the account named in the handover can answer it."
                if recipient
                else "Only the administrator who offered the venue can cancel the offer."
            )
        if found.state != "pending":
            raise HandoverDecided(f"This handover is {found.state}.")
        return found

    async def reassign(
        self, operator: UUID, venue_id: UUID, to_phone: str | None, to_person_id: UUID | None
    ) -> Handover:
        """An operator gives the venue to another account at once; a pending offer is cancelled."""
        phone, person_id = clean_recipient(to_phone, to_person_id)
        now = self.clock()
        async with self._store.unit() as unit:
            current = await self._administrator(unit, venue_id)
            to_id = await self._recipient(unit, phone, person_id)
            if to_id == current:
                raise RecipientAdministers("That account is already this venue's administrator.")
            await unit.handovers.close_pending(venue_id, now, expired_only=False)
            await unit.handovers.set_administrator(venue_id, to_id)
            done = await unit.handovers.insert(
                handover_id=uuid7(),
                venue_id=venue_id,
                kind="reassignment",
                from_id=current,
                to_id=to_id,
                requested_by=operator,
                state="done",
                now=now,
                expires_at=now,
            )
            staged = await unit.stage(REGISTRY_TOPIC, str(venue_id).encode(), [handed_over(done)])
        await self._outbox.send(staged)
        log.info("venue reassigned", extra={"venue_id": str(venue_id), "handover_id": str(done.handover_id)})
        return done

    async def incoming(self, caller: UUID) -> list[Handover]:
        return await self._store.handovers.pending_for(caller, self.clock())

    async def history(self, caller: UUID, venue_id: UUID, *, operator: bool) -> list[Handover]:
        """A venue's handovers, newest first: for its administrator and for operators."""
        administrator = await self._store.handovers.administrator_of(venue_id)
        if administrator is None:
            raise VenueNotFound("No venue has this id.")
        if administrator != caller and not operator:
            raise NotVenueAdministrator("Only the venue's administrator or an operator may see this.")
        return await self._store.handovers.of_venue(venue_id)

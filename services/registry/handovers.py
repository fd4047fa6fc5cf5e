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

import asyncpg

from services.registry import store_handovers
from services.registry.errors import (
    AmbiguousPhone,
    HandoverDecided,
    HandoverExpired,
    HandoverNotFound,
    HandoverPending,
    NotHandoverRecipient,
    RecipientAdministers,
    RecipientNotFound,
)
from services.registry.models import Handover, HandoverState
from services.registry.outbox import Outbox, Staged
from services.registry.service import clean_phone
from services.registry.store_handovers import Conn
from services.registry.venues import NotVenueAdministrator, VenueNotFound
from shared.errors import InvalidValue
from shared.events import REGISTRY_TOPIC, VenueHandedOver, VenueHandedOverData
from shared.ids import uuid7

log = logging.getLogger("venuecode.registry")
# A week: long enough for the new administrator to see the offer after a weekend, short enough
# that a forgotten offer does not block the next one for long (the old one can also be cancelled).
HANDOVER_TTL = timedelta(days=7)


def clean_recipient(phone: str | None, person_id: UUID | None) -> tuple[str | None, UUID | None]:
    """Exactly one of the two names the new administrator."""
    if (phone is None) == (person_id is None):
        raise InvalidValue("to_phone", "name the new administrator by to_phone or to_person_id (one of them)")
    return (None if phone is None else clean_phone(phone)), person_id


class HandoverService:
    def __init__(
        self, pool: asyncpg.Pool, outbox: Outbox, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._pool = pool
        self._outbox = outbox
        self.clock = clock  # public: tests move it past an expiry

    async def _recipient(self, conn: Conn, phone: str | None, person_id: UUID | None) -> UUID:
        if person_id is not None:
            if not await store_handovers.is_account(conn, person_id):
                raise RecipientNotFound("No account has this person id.")
            return person_id
        assert phone is not None
        found = await store_handovers.accounts_with_phone(conn, phone)
        if not found:
            raise RecipientNotFound("No account has this phone number.")
        if len(found) > 1:
            raise AmbiguousPhone("Several accounts have this phone number: name the account by its id.")
        return found[0]

    async def _administrator(self, conn: Conn, venue_id: UUID) -> UUID:
        administrator = await store_handovers.lock_venue_administrator(conn, venue_id)
        if administrator is None:
            raise VenueNotFound("No venue has this id.")
        return administrator

    async def offer(
        self, caller: UUID, venue_id: UUID, to_phone: str | None, to_person_id: UUID | None
    ) -> Handover:
        phone, person_id = clean_recipient(to_phone, to_person_id)
        now = self.clock()
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                if await self._administrator(conn, venue_id) != caller:
                    raise NotVenueAdministrator("Only the venue's administrator may hand it over.")
                to_id = await self._recipient(conn, phone, person_id)
                if to_id == caller:
                    raise InvalidValue("to_phone", "that is your own account")
                if await store_handovers.administers(conn, to_id):
                    raise RecipientAdministers("That account already administers a venue; one holds one.")
                await store_handovers.close_pending(conn, venue_id, now, expired_only=True)
                offer = await store_handovers.insert_handover(
                    conn,
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
        except asyncpg.UniqueViolationError as exc:  # venue_handovers_one_pending
            raise HandoverPending("Cancel the pending handover of this venue first.") from exc
        log.info(
            "venue handover offered", extra={"venue_id": str(venue_id), "handover_id": str(offer.handover_id)}
        )
        return offer

    async def accept(self, caller: UUID, handover_id: UUID) -> Handover:
        now = self.clock()
        expired = False
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                found = await self._answerable(conn, caller, handover_id, recipient=True)
                if found.expires_at <= now:
                    await store_handovers.set_state(conn, handover_id, "expired", now)
                    expired = True
                else:
                    administrator = await self._administrator(conn, found.venue_id)
                    if administrator != found.from_id:  # cannot happen while pending; kept honest
                        raise HandoverDecided("The venue's administrator changed since the offer.")
                    await store_handovers.set_administrator(conn, found.venue_id, caller)
                    await store_handovers.set_state(conn, handover_id, "accepted", now)
                    staged = await self._stage(conn, found, found.requested_by)
                    done = await store_handovers.handover_by_id(conn, handover_id)
        except asyncpg.UniqueViolationError as exc:  # venues_one_per_administrator
            raise RecipientAdministers(
                "You already administer a venue; one administrator holds one."
            ) from exc
        if expired:
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
        async with self._pool.acquire() as conn, conn.transaction():
            found = await self._answerable(conn, caller, handover_id, recipient=recipient)
            state: HandoverState = (
                "expired" if found.expires_at <= now else ("declined" if recipient else "cancelled")
            )
            await store_handovers.set_state(conn, handover_id, state, now)
            ended = await store_handovers.handover_by_id(conn, handover_id)
        assert ended is not None
        return ended

    async def _answerable(self, conn: Conn, caller: UUID, handover_id: UUID, *, recipient: bool) -> Handover:
        found = await store_handovers.handover_by_id(conn, handover_id, for_update=True)
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
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                current = await self._administrator(conn, venue_id)
                to_id = await self._recipient(conn, phone, person_id)
                if to_id == current:
                    raise RecipientAdministers("That account is already this venue's administrator.")
                await store_handovers.close_pending(conn, venue_id, now, expired_only=False)
                await store_handovers.set_administrator(conn, venue_id, to_id)
                done = await store_handovers.insert_handover(
                    conn,
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
                staged = await self._stage(conn, done, operator)
        except asyncpg.UniqueViolationError as exc:
            raise RecipientAdministers("That account already administers a venue; one holds one.") from exc
        await self._outbox.send(staged)
        log.info("venue reassigned", extra={"venue_id": str(venue_id), "handover_id": str(done.handover_id)})
        return done

    async def _stage(self, conn: Conn, found: Handover, requested_by: UUID) -> Staged:
        event = VenueHandedOver(
            data=VenueHandedOverData(
                venue_id=found.venue_id,
                from_administrator_id=found.from_id,
                to_administrator_id=found.to_id,
                handover_id=found.handover_id,
                kind="accepted_offer" if found.kind == "offer" else "operator_reassignment",
                requested_by=requested_by,
            )
        )
        return await self._outbox.stage(conn, REGISTRY_TOPIC, str(found.venue_id).encode(), [event])

    async def incoming(self, caller: UUID) -> list[Handover]:
        async with self._pool.acquire() as conn:
            return await store_handovers.pending_for(conn, caller, self.clock())

    async def history(self, caller: UUID, venue_id: UUID, *, operator: bool) -> list[Handover]:
        """A venue's handovers, newest first: for its administrator and for operators."""
        async with self._pool.acquire() as conn:
            administrator = await store_handovers.administrator_of(conn, venue_id)
            if administrator is None:
                raise VenueNotFound("No venue has this id.")
            if administrator != caller and not operator:
                raise NotVenueAdministrator("Only the venue's administrator or an operator may see this.")
            return await store_handovers.handovers_of_venue(conn, venue_id)

"""The colour rules: authority changes and commands by version, expiry, the cache refill, read models."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from services.status.cache import ColourCache
from services.status.errors import BadStatusCommand, ColourCacheDown, UnknownPerson
from services.status.models import Change, Clock, HistoryRow, Shown, Source, StatusRecord
from services.status.store import Store
from services.status.store_unit import Unit
from shared.cache import CACHE_ERRORS
from shared.errors import InvalidValue
from shared.events import (
    STATUS_TOPIC,
    Colour,
    GuardianLinked,
    GuardianUnlinked,
    InspectorBound,
    InspectorUnbound,
    PaperCodeIssued,
    PaperCodeIssuedData,
    PersonRegistered,
    RegistryEvent,
    StatusChanged,
    StatusChangedData,
    StatusRevert,
    StatusSet,
)
from shared.i18n import REASON_CODES
from shared.metrics import CACHE_REFILL_RUNNING, CACHE_REFILLS
from shared.outbox import Outbox, Staged

log = logging.getLogger("venuecode.status")


def check_colour(colour: Colour, reason: str) -> None:
    """A reason must be a known code, and green goes with ``none`` only."""
    if reason not in REASON_CODES:
        raise InvalidValue("reason", f"must be one of {', '.join(sorted(REASON_CODES))}")
    if (colour == "green") != (reason == "none"):
        raise InvalidValue("reason", "green goes with the reason none, yellow and red never do")


def changed_event(record: StatusRecord) -> StatusChanged:
    return StatusChanged(
        data=StatusChangedData(
            person_id=record.person_id,
            colour=record.colour,
            reason=record.reason,
            version=record.version,
            valid_until=record.valid_until,
        )
    )


class StatusService:
    """Owns every status change: Postgres first, then the Redis cache, then status.changed.

    It also numbers paper codes, whose paper_code.issued leaves through the same outbox. Events
    go to ``venuecode.status.v1`` keyed by person, so one person's changes and paper cards stay
    in order on one partition.
    """

    def __init__(
        self,
        store: Store,
        cache: ColourCache,
        outbox: Outbox,
        clock: Clock,
        *,
        refill_chunk: int = 1000,
        sweep_batch: int = 500,
    ) -> None:
        self._store = store
        self._cache = cache
        self._outbox = outbox
        self.clock = clock
        self._refill_chunk = refill_chunk
        self._sweep_batch = sweep_batch
        # Set when a committed change could not reach Redis: the next check refills everything.
        self._cache_behind = False

    # --- reads -----------------------------------------------------------------------

    async def shown(self, person_id: UUID, registered_at: datetime | None = None) -> Shown:
        """What anyone sees now; a person with no recorded status is green since registering."""
        now = self.clock.now()
        record = await self._store.current(person_id)
        if record is None:
            return Shown(person_id, "green", "none", 0, None, registered_at or now)
        return Shown.of(record, now)

    async def history(self, reader: UUID, person_id: UUID) -> list[HistoryRow]:
        """A person's colour history: a staff read of health data, so it is audited."""
        if await self._store.person(person_id) is None and await self._store.current(person_id) is None:
            raise UnknownPerson()
        await self._store.audit_history_read(reader, person_id, self.clock.now())
        return await self._store.history(person_id)

    # --- changes ---------------------------------------------------------------------

    async def set_by_authority(
        self,
        by: UUID,
        person_id: UUID,
        *,
        colour: Colour,
        reason: str,
        valid_until: datetime | None,
        note: str | None,
    ) -> StatusRecord:
        check_colour(colour, reason)
        now = self.clock.now()
        if valid_until is not None and colour == "green":
            raise InvalidValue("valid_until", "only a yellow or red colour expires")
        if valid_until is not None and valid_until <= now:
            raise InvalidValue("valid_until", "must be in the future")
        if await self._store.person(person_id) is None:
            raise UnknownPerson()
        change = Change(person_id, colour, reason, valid_until, now, Source.AUTHORITY, by, note=note)
        async with self._store.unit() as unit:
            record = await unit.apply_change(change, now, force=True)
            assert record is not None  # forced changes always apply
            staged = await _announce(unit, record)
        await self._after_commit([record], [staged])
        return record

    async def apply_command(self, command: StatusSet) -> StatusRecord | None:
        """Apply a status.set once (by event id) unless a newer act already decided the colour."""
        data = command.data
        try:
            check_colour(data.colour, data.reason)
        except InvalidValue as exc:
            raise BadStatusCommand(exc.detail) from exc
        if data.colour == "green" and data.valid_until is not None:
            raise BadStatusCommand("only a yellow or red colour expires")
        change = Change(
            data.person_id,
            data.colour,
            data.reason,
            data.valid_until,
            command.occurred_at,
            Source.COMMAND,
            data.requested_by,
            data.source_query_id,
            alert_id=data.alert_id,
        )
        async with self._store.event(command.event_id) as unit:
            if unit is None:
                return None
            if data.alert_id is not None and await unit.alert_withdrawn(data.alert_id):
                return None  # the alert was withdrawn before this command arrived
            record = await unit.apply_change(change, self.clock.now(), force=False)
            if record is None:
                return None
            staged = await _announce(unit, record)
        await self._after_commit([record], [staged])
        return record

    async def apply_revert(self, command: StatusRevert) -> list[StatusRecord]:
        """Undo a withdrawn venue alert: restore each person whose current status it set.

        Lowering a colour is allowed here, unlike for status.set: the revert only ever
        takes back the alert's own change, and someone changed since is left alone.
        """
        data = command.data
        async with self._store.event(command.event_id) as unit:
            if unit is None:
                return []
            records = await unit.revert_alert(
                data.alert_id, data.requested_by, command.occurred_at, self.clock.now()
            )
            staged = [await _announce(unit, r) for r in records]
        await self._after_commit(records, staged)
        return records

    async def sweep_expired(self) -> int:
        """Record every colour whose valid_until passed as green, and announce each change."""
        now = self.clock.now()
        total = 0
        while True:
            due = await self._store.expiring(now, self._sweep_batch)
            changed: list[StatusRecord] = []
            staged: list[Staged] = []
            for person_id, version in due:
                async with self._store.unit() as unit:
                    record = await unit.expire(person_id, version, now)
                    if record is not None:
                        changed.append(record)
                        staged.append(await _announce(unit, record))
            await self._after_commit(changed, staged)
            total += len(changed)
            if len(due) < self._sweep_batch or not changed:
                return total

    async def _after_commit(self, records: Sequence[StatusRecord], staged: Sequence[Staged]) -> None:
        """Cache first (no reader may see the old colour after the answer), then announce."""
        if not records:
            return
        try:
            await self._cache.write(records)
        except CACHE_ERRORS as exc:
            self._cache_behind = True
            raise ColourCacheDown() from exc
        await self._outbox.send(*staged)

    # --- paper codes -------------------------------------------------------------------

    async def issue_paper_serial(self, person_id: UUID, issued_by: UUID) -> int:
        """The person's next paper-code serial, announced as paper_code.issued through the outbox.

        The serial and its event commit together, so the check-in service (which
        refuses cards below the highest serial it heard of) learns of every card,
        if need be from the relay after a failed publish.
        """
        async with self._store.unit() as unit:
            serial = await unit.next_paper_serial(person_id, issued_by, self.clock.now())
            event = PaperCodeIssued(data=PaperCodeIssuedData(person_id=person_id, serial=serial))
            staged = await unit.stage(STATUS_TOPIC, _key(person_id), [event])
        await self._outbox.send(staged)
        return serial

    # --- the colour cache ------------------------------------------------------------

    async def ensure_cache(self) -> int:
        """Refill the cache when it is cold, flushed or missed a write; how many keys it wrote."""
        if not self._cache_behind and await self._cache.is_warm():
            return 0
        return await self.refill_cache()

    async def refill_cache(self) -> int:
        """Copy every recorded status into Redis in pipelined chunks, then set the warm marker."""
        # Cleared first: a write that fails during the refill sets it again.
        self._cache_behind = False
        after: UUID | None = None
        count = 0
        CACHE_REFILL_RUNNING.labels("status").set(1)
        try:
            while True:
                page = await self._store.statuses_after(after, self._refill_chunk)
                if page:
                    await self._cache.write(page)
                    count += len(page)
                    after = page[-1].person_id
                if len(page) < self._refill_chunk:
                    break
            await self._cache.mark_warm()
        except BaseException:
            self._cache_behind = True
            raise
        finally:
            CACHE_REFILL_RUNNING.labels("status").set(0)
        CACHE_REFILLS.labels("status").inc()
        log.info("colour cache refilled", extra={"entries": count})
        return count

    # --- read models from registry events ----------------------------------------------

    async def apply_registry_event(self, event: RegistryEvent) -> None:
        async with self._store.event(event.event_id) as unit:
            if unit is None:
                return
            at = event.occurred_at
            if isinstance(event, PersonRegistered):
                await unit.record_person(event.data, at)
            elif isinstance(event, GuardianLinked):
                data = event.data
                await unit.link_guardian(data.guardian_id, data.person_id, data.relation, at)
            elif isinstance(event, GuardianUnlinked):
                await unit.unlink_guardian(event.data.guardian_id, event.data.person_id)
            elif isinstance(event, InspectorBound | InspectorUnbound):
                bound = isinstance(event, InspectorBound)
                await unit.set_binding(event.data.person_id, event.data.venue_id, bound, at)


def _key(person_id: UUID) -> bytes:
    return str(person_id).encode()


async def _announce(unit: Unit, record: StatusRecord) -> Staged:
    """Put the change's status.changed in the outbox, inside the change's transaction."""
    return await unit.stage(STATUS_TOPIC, _key(record.person_id), [changed_event(record)])

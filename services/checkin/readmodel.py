"""The rules of the read models: which registry and status events change what a scan reads."""

from __future__ import annotations

from services.checkin.store import Store
from shared.events import (
    GuardianLinked,
    GuardianUnlinked,
    InspectorBound,
    InspectorUnbound,
    PaperCodeIssued,
    PersonRegistered,
    RegistryEvent,
    StatusEvent,
    VenueHandedOver,
    VenuePosterReissued,
    VenueRegistered,
    VenueRenamed,
)

# The registry events this service keeps; anything else (role.granted) is acknowledged and ignored.
RELEVANT = (
    PersonRegistered,
    GuardianLinked,
    GuardianUnlinked,
    VenueRegistered,
    VenueRenamed,
    VenuePosterReissued,
    VenueHandedOver,
    InspectorBound,
    InspectorUnbound,
)


class RegistryProjection:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def apply(self, event: RegistryEvent) -> bool:
        """Apply one event at most once; False when it was irrelevant or handled before."""
        if not isinstance(event, RELEVANT):
            return False
        async with self._store.event(event.event_id) as model:
            if model is None:
                return False
            match event:
                case PersonRegistered(data=d):
                    await model.put_person(d.person_id, d.masked_name, d.masked_id)
                case GuardianLinked(data=d):
                    await model.link_guardian(d.guardian_id, d.person_id, d.relation)
                case GuardianUnlinked(data=d):
                    await model.unlink_guardian(d.guardian_id, d.person_id)
                case VenueRegistered(data=d):
                    await model.put_venue(d.venue_id, d.name, d.poster_version, d.administrator_id)
                case VenueRenamed(data=d):
                    await model.rename_venue(d.venue_id, d.name)
                case VenuePosterReissued(data=d):
                    await model.reissue_poster(d.venue_id, d.poster_version)
                case VenueHandedOver(data=d):
                    # Closing a venue is its administrator's right: it moves with the handover.
                    await model.set_administrator(d.venue_id, d.to_administrator_id)
                case InspectorBound(data=d):
                    await model.bind_inspector(d.venue_id, d.person_id, event.occurred_at)
                case InspectorUnbound(data=d):
                    await model.unbind_inspector(d.venue_id, d.person_id)
        return True


class StatusProjection:
    """The paper-code serials from venuecode.status.v1; status.changed is not kept here (colours
    come from the Redis colour cache)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def apply(self, event: StatusEvent) -> bool:
        """Apply one event at most once; False when it was irrelevant or handled before."""
        if not isinstance(event, PaperCodeIssued):
            return False
        async with self._store.event(event.event_id) as model:
            if model is None:
                return False
            await model.raise_paper_serial(event.data.person_id, event.data.serial)
        return True

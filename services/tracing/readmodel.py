"""Tracing's read models of registry: venues (their names and typical stays) and people (masked)."""

from __future__ import annotations

from services.tracing.models import Person, Venue
from services.tracing.store import Store
from shared.events import Event, PersonRegistered, VenueRegistered, VenueRenamed

# When registry sends no typical stay, a category's usual visit length (minutes),
# from the reference system's guidance on dwell times; anything else gets 60.
CATEGORY_STAY_MINUTES: dict[str, int] = {
    "supermarket": 30,
    "market": 45,
    "shop": 20,
    "restaurant": 90,
    "cafe": 45,
    "transport": 30,
    "office": 480,
    "school": 480,
    "hospital": 120,
    "clinic": 60,
    "gym": 90,
    "cinema": 150,
    "hotel": 720,
    "residential": 720,
}


class RegistryProjection:
    """Applies registry's events to the read models, each once (``Store.event``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def apply(self, event: Event) -> bool:
        """Keep the venue and person read models; False when the event was handled before or
        is not one tracing reads."""
        if not isinstance(event, VenueRegistered | VenueRenamed | PersonRegistered):
            return False
        async with self._store.event(event.event_id) as unit:
            if unit is None:
                return False
            if isinstance(event, PersonRegistered):
                person = Person(
                    **event.data.model_dump(include={"person_id", "id_kind", "masked_name", "masked_id"})
                )
                await unit.registry.put_person(person, event.data.id_digest)
            elif isinstance(event, VenueRenamed):
                await unit.registry.rename_venue(event.data.venue_id, event.data.name)
            else:
                data = event.data
                stay = data.typical_stay_minutes or CATEGORY_STAY_MINUTES.get(data.category.lower())
                venue = Venue(
                    venue_id=data.venue_id,
                    region_code=data.region_code,
                    name=data.name,
                    category=data.category,
                    typical_stay_minutes=stay,
                )
                await unit.registry.put_venue(venue)
        return True

"""The rules about venues: one administrator each, declaration codes, inspectors, venue codes."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from uuid import UUID

from services.registry import declaration
from services.registry.errors import (
    NotBound,
    NotVenueAdministrator,
    NotVenueInspector,
    UnknownDeclarationCode,
    VenueNotFound,
)
from services.registry.models import (
    DEFAULT_CATEGORY,
    TYPICAL_STAY_MINUTES,
    BoundVenue,
    Category,
    Inspector,
    Venue,
)
from services.registry.store import Store, Unit
from shared.errors import InvalidValue
from shared.events import (
    REGISTRY_TOPIC,
    InspectorBindingData,
    InspectorBound,
    InspectorUnbound,
    VenuePosterReissued,
    VenuePosterReissuedData,
    VenueRegistered,
    VenueRegisteredData,
    VenueRenamed,
    VenueRenamedData,
)
from shared.ids import uuid7
from shared.outbox import Outbox, Staged
from shared.pii import PROVINCE_PREFIXES, normalise_name
from shared.tokens import TokenSigner

log = logging.getLogger("venuecode.registry")
NAME_MIN, NAME_MAX = 2, 100  # issue 3: the full name, 2-100 characters after normalising
ADDRESS_MAX = 200
# A fresh declaration code collides with probability ~n/2^45; a few tries are plenty.
CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class VenueCode:
    venue: Venue
    token: str
    url: str


def clean_region_code(region_code: str) -> str:
    value = region_code.strip()
    if not re.fullmatch(r"[0-9]{6}", value):
        raise InvalidValue("region_code", "a region code is 6 digits (GB/T 2260)")
    if int(value[:2]) not in PROVINCE_PREFIXES:
        raise InvalidValue("region_code", "the first two digits are not a province code")
    return value


def clean_venue_name(name: str) -> str:
    value = normalise_name(name)
    if not NAME_MIN <= len(value) <= NAME_MAX or not value.isprintable():
        raise InvalidValue("name", f"a venue's full name has {NAME_MIN} to {NAME_MAX} printable characters")
    return value


def clean_category(category: str | None) -> Category:
    if category is None:
        return DEFAULT_CATEGORY
    try:
        return Category(category.strip().lower())
    except ValueError:
        raise InvalidValue("category", f"one of {', '.join(c.value for c in Category)}") from None


def clean_address(address: str | None) -> str | None:
    value = normalise_name(address or "")
    if len(value) > ADDRESS_MAX:
        raise InvalidValue("address", f"an address has at most {ADDRESS_MAX} characters")
    return value or None


class CodesExhausted(RuntimeError):
    """Every fresh declaration code drawn was taken: practically impossible (see CODE_ATTEMPTS)."""


class VenueService:
    def __init__(self, store: Store, outbox: Outbox, signer: TokenSigner, public_base_url: str) -> None:
        self._store = store
        self._outbox = outbox
        self._signer = signer
        self._base = public_base_url.rstrip("/")

    async def create(
        self, administrator_id: UUID, region_code: str, name: str, address: str | None, category: str | None
    ) -> Venue:
        region_code = clean_region_code(region_code)
        name = clean_venue_name(name)
        address = clean_address(address)
        kind = clean_category(category)
        async with self._store.unit() as unit:
            for _ in range(CODE_ATTEMPTS):
                venue = await unit.venues.insert(
                    venue_id=uuid7(),
                    region_code=region_code,
                    name=name,
                    address=address,
                    category=kind,
                    administrator_id=administrator_id,
                    declaration_code=declaration.generate(),
                )
                if venue is not None:
                    break
            else:
                raise CodesExhausted
            data = VenueRegisteredData(
                venue_id=venue.venue_id,
                region_code=venue.region_code,
                name=venue.name,
                category=venue.category.value,
                poster_version=venue.poster_version,
                administrator_id=administrator_id,
                typical_stay_minutes=TYPICAL_STAY_MINUTES[venue.category],
            )
            staged = await unit.stage(
                REGISTRY_TOPIC, str(venue.venue_id).encode(), [VenueRegistered(data=data)]
            )
        await self._outbox.send(staged)
        log.info(
            "venue registered", extra={"venue_id": str(venue.venue_id), "category": venue.category.value}
        )
        return venue

    async def mine(self, administrator_id: UUID) -> tuple[Venue, list[Inspector]]:
        venue = await self._store.venues.of_administrator(administrator_id)
        if venue is None:
            raise VenueNotFound("You do not administer a venue.")
        return venue, await self._store.venues.inspectors_of(venue.venue_id)

    async def _administered(self, unit: Unit, venue_id: UUID, caller: UUID) -> Venue:
        venue = await unit.venues.by_id(venue_id)
        if venue is None:
            raise VenueNotFound("No venue has this id.")
        if venue.administrator_id != caller:
            raise NotVenueAdministrator("Only the venue's administrator may do this.")
        return venue

    async def rotate_code(self, venue_id: UUID, caller: UUID) -> str:
        """A new declaration code; the old one stops binding, existing bindings stay."""
        async with self._store.unit() as unit:
            await self._administered(unit, venue_id, caller)
            for _ in range(CODE_ATTEMPTS):
                code = declaration.generate()
                if await unit.venues.set_declaration_code(venue_id, code):
                    return code
        raise CodesExhausted

    async def rename(self, venue_id: UUID, caller: UUID, name: str) -> Venue:
        name = clean_venue_name(name)
        async with self._store.unit() as unit:
            venue = await self._administered(unit, venue_id, caller)
            if venue.name == name:
                return venue
            renamed = await unit.venues.rename(venue_id, name)
            event = VenueRenamed(data=VenueRenamedData(venue_id=venue_id, name=name))
            staged = await unit.stage(REGISTRY_TOPIC, str(venue_id).encode(), [event])
        await self._outbox.send(staged)
        return renamed

    async def reissue_poster(self, venue_id: UUID, caller: UUID) -> int:
        """Version + 1: posters of older versions are refused at check-in from now on."""
        async with self._store.unit() as unit:
            await self._administered(unit, venue_id, caller)
            version = await unit.venues.reissue_poster(venue_id)
            event = VenuePosterReissued(
                data=VenuePosterReissuedData(venue_id=venue_id, poster_version=version)
            )
            staged = await unit.stage(REGISTRY_TOPIC, str(venue_id).encode(), [event])
        await self._outbox.send(staged)
        return version

    async def bind(self, person_id: UUID, code: str) -> tuple[Venue, bool]:
        """Bind the caller as inspector of the venue with this code; True when the binding is new."""
        try:
            canonical = declaration.normalise(code)
        except declaration.InvalidDeclarationCode as exc:
            raise UnknownDeclarationCode(f"No venue has this declaration code ({exc}).") from exc
        async with self._store.unit() as unit:
            venue = await unit.venues.by_declaration_code(canonical)
            if venue is None:
                raise UnknownDeclarationCode("No venue has this declaration code.")
            if not await unit.venues.bind_inspector(venue.venue_id, person_id):
                return venue, False
            event = InspectorBound(data=InspectorBindingData(venue_id=venue.venue_id, person_id=person_id))
            staged = await unit.stage(REGISTRY_TOPIC, str(venue.venue_id).encode(), [event])
        await self._outbox.send(staged)
        return venue, True

    async def bindings(self, person_id: UUID) -> list[BoundVenue]:
        return await self._store.venues.venues_of_inspector(person_id)

    async def _unbind(self, unit: Unit, venue_id: UUID, person_id: UUID) -> Staged:
        if not await unit.venues.unbind_inspector(venue_id, person_id):
            raise NotBound("This person is not bound to this venue as inspector.")
        event = InspectorUnbound(data=InspectorBindingData(venue_id=venue_id, person_id=person_id))
        return await unit.stage(REGISTRY_TOPIC, str(venue_id).encode(), [event])

    async def leave(self, person_id: UUID, venue_id: UUID) -> None:
        async with self._store.unit() as unit:
            staged = await self._unbind(unit, venue_id, person_id)
        await self._outbox.send(staged)

    async def remove_inspector(self, caller: UUID, venue_id: UUID, person_id: UUID) -> None:
        async with self._store.unit() as unit:
            await self._administered(unit, venue_id, caller)
            staged = await self._unbind(unit, venue_id, person_id)
        await self._outbox.send(staged)

    async def venue_code(self, caller: UUID, venue_id: UUID) -> VenueCode:
        """The signed token and check-in URL of the current poster, for bound inspectors only."""
        # Binding first: whether a venue exists is not told to strangers.
        if not await self._store.venues.is_inspector(venue_id, caller):
            raise NotVenueInspector("Only an inspector bound to this venue can get its code.")
        venue = await self._store.venues.by_id(venue_id)
        if venue is None:  # the binding went with its venue in between
            raise NotVenueInspector("Only an inspector bound to this venue can get its code.")
        return self.code_of(venue)

    def token_of(self, bound: BoundVenue) -> str:
        """The current venue token of a venue from the caller's own bindings list."""
        return self._signer.venue_token(bound.venue_id, bound.poster_version)

    def code_of(self, venue: Venue) -> VenueCode:
        token = self._signer.venue_token(venue.venue_id, venue.poster_version)
        return VenueCode(venue, token, f"{self._base}/c/{token}")

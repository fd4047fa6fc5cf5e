"""The rules about venues: one administrator each, declaration codes, inspectors, venue codes."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import asyncpg

from services.registry import declaration, store, store_handovers
from services.registry.models import (
    DEFAULT_CATEGORY,
    TYPICAL_STAY_MINUTES,
    BoundVenue,
    Category,
    Inspector,
    Venue,
)
from services.registry.outbox import Outbox, Staged
from shared.errors import Conflict, Forbidden, InvalidValue, NotFound
from shared.events import (
    REGISTRY_TOPIC,
    InspectorBindingData,
    InspectorBound,
    InspectorUnbound,
    VenuePosterPrinted,
    VenuePosterPrintedData,
    VenuePosterReissued,
    VenuePosterReissuedData,
    VenueRegistered,
    VenueRegisteredData,
    VenueRenamed,
    VenueRenamedData,
)
from shared.ids import uuid7
from shared.pii import normalise_name
from shared.regions import regions
from shared.tokens import TokenSigner

log = logging.getLogger("venuecode.registry")
CodeFormat = Literal["png", "svg", "pdf"]
NAME_MIN, NAME_MAX = 2, 100  # issue 3: the full name, 2-100 characters after normalising
# The street address tells two branches of one name apart; 4 characters is the shortest real one
# (e.g. 人民路1号), 200 is what a poster line and the column allow.
ADDRESS_MIN, ADDRESS_MAX = 4, 200
# A fresh declaration code collides with probability ~n/2^45; a few tries are plenty.
CODE_ATTEMPTS = 5


class VenueAlreadyAdministered(Conflict):
    title = "You already administer a venue"


class VenueNameTaken(Conflict):
    title = "A venue with this name and address exists in this region"


class VenueNotFound(NotFound):
    pass


class UnknownDeclarationCode(NotFound):
    pass


class NotBound(NotFound):
    pass


class NotVenueAdministrator(Forbidden):
    pass


class NotVenueInspector(Forbidden):
    pass


@dataclass(frozen=True)
class VenueCode:
    venue: Venue
    token: str
    url: str


def clean_region_code(region_code: str) -> str:
    """A county-level GB/T 2260 code (a district, or a city without districts) that exists."""
    value = region_code.strip()
    if not re.fullmatch(r"[0-9]{6}", value):
        raise InvalidValue("region_code", "a region code is 6 digits (GB/T 2260)")
    found = regions().get(value)
    if found is None:
        raise InvalidValue("region_code", "no GB/T 2260 division has this code")
    if not found.selectable:
        raise InvalidValue("region_code", "pick a district (county level), not a province or city")
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
    """Trimmed, inner whitespace collapsed; absent or blank is no address (API.md: optional)."""
    value = normalise_name(address or "")
    if not value:
        return None
    if not ADDRESS_MIN <= len(value) <= ADDRESS_MAX or not value.isprintable():
        raise InvalidValue("address", f"an address has {ADDRESS_MIN} to {ADDRESS_MAX} printable characters")
    return value


def _conflict(exc: asyncpg.UniqueViolationError) -> Conflict:
    if exc.constraint_name == "venues_one_per_administrator":
        return VenueAlreadyAdministered("You already administer a venue; one administrator holds one venue.")
    return VenueNameTaken("A venue with this full name and address is already registered in this region.")


class VenueService:
    def __init__(self, pool: asyncpg.Pool, outbox: Outbox, signer: TokenSigner, public_base_url: str) -> None:
        self._pool = pool
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
        for attempt in range(CODE_ATTEMPTS):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    venue = await store.insert_venue(
                        conn,
                        venue_id=uuid7(),
                        region_code=region_code,
                        name=name,
                        address=address,
                        category=kind,
                        administrator_id=administrator_id,
                        declaration_code=declaration.generate(),
                    )
                    data = VenueRegisteredData(
                        venue_id=venue.venue_id,
                        region_code=venue.region_code,
                        name=venue.name,
                        category=venue.category.value,
                        poster_version=venue.poster_version,
                        administrator_id=administrator_id,
                        typical_stay_minutes=TYPICAL_STAY_MINUTES[venue.category],
                        address=venue.address,
                    )
                    staged = await self._outbox.stage(
                        conn, REGISTRY_TOPIC, str(venue.venue_id).encode(), [VenueRegistered(data=data)]
                    )
            except asyncpg.UniqueViolationError as exc:
                if exc.constraint_name == "venues_declaration_code" and attempt < CODE_ATTEMPTS - 1:
                    continue
                raise _conflict(exc) from exc
            except asyncpg.ForeignKeyViolationError as exc:
                raise NotFound("The signed-in account no longer exists.") from exc
            await self._outbox.send(staged)
            log.info(
                "venue registered", extra={"venue_id": str(venue.venue_id), "category": venue.category.value}
            )
            return venue
        raise AssertionError("unreachable")

    async def mine(self, administrator_id: UUID) -> tuple[Venue, list[Inspector]]:
        async with self._pool.acquire() as conn:
            venue = await store.venue_of_administrator(conn, administrator_id)
            if venue is None:
                raise VenueNotFound("You do not administer a venue.")
            return venue, await store.inspectors_of(conn, venue.venue_id)

    async def _administered(self, conn: store.Conn, venue_id: UUID, caller: UUID) -> Venue:
        venue = await store.venue_by_id(conn, venue_id)
        if venue is None:
            raise VenueNotFound("No venue has this id.")
        if venue.administrator_id != caller:
            raise NotVenueAdministrator("Only the venue's administrator may do this.")
        return venue

    async def rotate_code(self, venue_id: UUID, caller: UUID) -> str:
        """A new declaration code; the old one stops binding, existing bindings stay."""
        for attempt in range(CODE_ATTEMPTS):
            code = declaration.generate()
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    await self._administered(conn, venue_id, caller)
                    await store.set_declaration_code(conn, venue_id, code)
            except asyncpg.UniqueViolationError:
                if attempt < CODE_ATTEMPTS - 1:
                    continue
                raise
            return code
        raise AssertionError("unreachable")

    async def rename(self, venue_id: UUID, caller: UUID, name: str) -> Venue:
        name = clean_venue_name(name)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                venue = await self._administered(conn, venue_id, caller)
                if venue.name == name:
                    return venue
                await store.rename_venue(conn, venue_id, name)
                event = VenueRenamed(data=VenueRenamedData(venue_id=venue_id, name=name))
                staged = await self._outbox.stage(conn, REGISTRY_TOPIC, str(venue_id).encode(), [event])
                renamed = await store.venue_by_id(conn, venue_id)
        except asyncpg.UniqueViolationError as exc:
            raise _conflict(exc) from exc
        await self._outbox.send(staged)
        assert renamed is not None
        return renamed

    async def reissue_poster(self, venue_id: UUID, caller: UUID) -> int:
        """Version + 1: posters of older versions are refused at check-in from now on."""
        async with self._pool.acquire() as conn, conn.transaction():
            await self._administered(conn, venue_id, caller)
            version = await store.reissue_poster(conn, venue_id)
            event = VenuePosterReissued(
                data=VenuePosterReissuedData(venue_id=venue_id, poster_version=version)
            )
            staged = await self._outbox.stage(conn, REGISTRY_TOPIC, str(venue_id).encode(), [event])
        await self._outbox.send(staged)
        return version

    async def bind(self, person_id: UUID, code: str) -> tuple[Venue, bool]:
        """Bind the caller as inspector of the venue with this code; True when the binding is new."""
        try:
            canonical = declaration.normalise(code)
        except declaration.InvalidDeclarationCode as exc:
            raise UnknownDeclarationCode(f"No venue has this declaration code ({exc}).") from exc
        async with self._pool.acquire() as conn, conn.transaction():
            venue = await store.venue_by_declaration_code(conn, canonical)
            if venue is None:
                raise UnknownDeclarationCode("No venue has this declaration code.")
            try:
                created = await store.bind_inspector(conn, venue.venue_id, person_id)
            except asyncpg.ForeignKeyViolationError as exc:
                raise NotFound("The signed-in account no longer exists.") from exc
            if not created:
                return venue, False
            event = InspectorBound(data=InspectorBindingData(venue_id=venue.venue_id, person_id=person_id))
            staged = await self._outbox.stage(conn, REGISTRY_TOPIC, str(venue.venue_id).encode(), [event])
        await self._outbox.send(staged)
        return venue, True

    async def bindings(self, person_id: UUID) -> list[BoundVenue]:
        async with self._pool.acquire() as conn:
            return await store.venues_of_inspector(conn, person_id)

    async def _unbind(self, conn: store.Conn, venue_id: UUID, person_id: UUID) -> Staged:
        if not await store.unbind_inspector(conn, venue_id, person_id):
            raise NotBound("This person is not bound to this venue as inspector.")
        event = InspectorUnbound(data=InspectorBindingData(venue_id=venue_id, person_id=person_id))
        return await self._outbox.stage(conn, REGISTRY_TOPIC, str(venue_id).encode(), [event])

    async def leave(self, person_id: UUID, venue_id: UUID) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            staged = await self._unbind(conn, venue_id, person_id)
        await self._outbox.send(staged)

    async def remove_inspector(self, caller: UUID, venue_id: UUID, person_id: UUID) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._administered(conn, venue_id, caller)
            staged = await self._unbind(conn, venue_id, person_id)
        await self._outbox.send(staged)

    async def venue_code(self, caller: UUID, venue_id: UUID, fmt: CodeFormat = "png") -> VenueCode:
        """The signed token and check-in URL of the current poster, for bound inspectors only.

        The first download of a poster version is recorded and announced
        (``venue.poster_printed``): the compliance view lists venues whose poster never was.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            # Binding first: whether a venue exists is not told to strangers.
            if not await store.is_inspector(conn, venue_id, caller):
                raise NotVenueInspector("Only an inspector bound to this venue can get its code.")
            venue = await store.venue_by_id(conn, venue_id)
            assert venue is not None
            staged = None
            if await store_handovers.mark_printed(conn, venue_id, venue.poster_version):
                event = VenuePosterPrinted(
                    data=VenuePosterPrintedData(
                        venue_id=venue_id, poster_version=venue.poster_version, format=fmt
                    )
                )
                staged = await self._outbox.stage(conn, REGISTRY_TOPIC, str(venue_id).encode(), [event])
        if staged is not None:
            await self._outbox.send(staged)
        return self.code_of(venue)

    def token_of(self, bound: BoundVenue) -> str:
        """The current venue token of a venue from the caller's own bindings list."""
        return self._signer.venue_token(bound.venue_id, bound.poster_version)

    def code_of(self, venue: Venue) -> VenueCode:
        token = self._signer.venue_token(venue.venue_id, venue.poster_version)
        return VenueCode(venue, token, f"{self._base}/c/{token}")

"""The registry's models: venue categories, relations, provinces, the rows its store returns,
and the request and response bodies of its API."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.answers import RegionNamesOut, VenuePlaceOut
from shared.events import IdKind, StaffRole
from shared.regions import regions
from shared.web import Instant


class Category(StrEnum):
    HOSPITAL = "hospital"
    RESTAURANT = "restaurant"
    SUPERMARKET = "supermarket"
    TRANSPORT = "transport"
    OFFICE = "office"
    SCHOOL = "school"
    HOTEL = "hotel"
    OTHER = "other"


# Typical stay per category in minutes, fixed by the lead from issue 3 (tracing uses it as the
# default visit length when nobody checked out): a meal 90, a shop 30, a ride 20, a working or
# school day 8 h, a hotel night 12 h, a hospital visit and anything else 1 h.
TYPICAL_STAY_MINUTES: dict[Category, int] = {
    Category.HOSPITAL: 60,
    Category.RESTAURANT: 90,
    Category.SUPERMARKET: 30,
    Category.TRANSPORT: 20,
    Category.OFFICE: 480,
    Category.SCHOOL: 480,
    Category.HOTEL: 720,
    Category.OTHER: 60,
}
DEFAULT_CATEGORY = Category.OTHER

# Relations a guardian picks from; anything else is free text up to RELATION_MAX characters.
RELATIONS = ("child", "parent", "grandparent", "spouse", "other")
RELATION_MAX = 20


def region_label(region_code: str) -> str:
    """The region's names for a poster, e.g. ``广东省 江门市 开平市``; the bare code when unknown."""
    names = regions().names(region_code)
    return region_code if names is None else names.printed()


@dataclass(frozen=True)
class Person:
    person_id: UUID
    id_kind: IdKind
    masked_id: str
    masked_name: str
    name_digest: str
    birth_date: date | None
    password_hash: str | None


# A family link waits for the person's consent ("pending") or lets the guardian act ("active").
LinkState = Literal["pending", "active"]
# What an active link lets the guardian do: the notice the person reads before accepting.
POWERS = ("read_health_code", "print_paper_code", "check_in")


@dataclass(frozen=True)
class Dependent:
    """A link seen from the guardian's side: the person, masked (also its answer in the API)."""

    person_id: UUID
    masked_name: str
    masked_id: str
    relation: str
    birth_date: date | None
    linked_at: datetime
    state: LinkState


@dataclass(frozen=True)
class Guardian:
    """A link seen from the person's side: who may act for them."""

    guardian_id: UUID
    masked_name: str
    relation: str
    linked_at: datetime
    state: LinkState


@dataclass(frozen=True)
class Venue:
    venue_id: UUID
    region_code: str
    name: str
    address: str | None
    category: Category
    administrator_id: UUID
    declaration_code: str
    poster_version: int
    poster_issued_at: datetime


@dataclass(frozen=True)
class Inspector:
    person_id: UUID
    masked_name: str
    bound_at: datetime


@dataclass(frozen=True)
class BoundVenue:
    venue_id: UUID
    name: str
    region_code: str
    poster_version: int
    bound_at: datetime
    is_administrator: bool


# --- request bodies -------------------------------------------------------------------

ID_KIND_DOC = (
    "mainland_id (also the residence permits of Hong Kong, Macao and Taiwan residents: 81, 82, 83),"
    " hk_macao_permit, taiwan_permit, passport, or foreign_permanent_resident (added beyond API.md:"
    " the 18-digit card of 2023 starting with 9, or the 15-character card of 3 letters and 12 digits)"
)


# 256 random bits are 43 characters; anything much longer is refused unread (issue 16).
REFRESH_TOKEN_MAX_CHARS = 128


@dataclass(frozen=True)
class RefreshTokenRow:
    """A refresh token's digest with its family's person and state (``store_sessions.py``)."""

    token_digest: bytes
    family_id: UUID
    person_id: UUID
    issued_at: datetime
    expires_at: datetime
    rotated_at: datetime | None
    family_revoked_at: datetime | None


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NewAccount(_Body):
    name: str = Field(max_length=200)
    id_kind: IdKind = Field(description=ID_KIND_DOC)
    id_number: str = Field(max_length=64)
    phone: str = Field(max_length=32)
    password: str = Field(max_length=1024)


class Credentials(_Body):
    id_number: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class NewVenue(_Body):
    region_code: str = Field(max_length=32)
    name: str = Field(max_length=400)
    address: str | None = Field(default=None, max_length=800)
    category: str | None = Field(default=None, max_length=40)


class VenueName(_Body):
    name: str = Field(max_length=400)


class DeclarationCode(_Body):
    declaration_code: str = Field(max_length=64)


class NewDependent(_Body):
    name: str = Field(max_length=200)
    id_kind: IdKind = Field(description=ID_KIND_DOC)
    id_number: str = Field(max_length=64)
    relation: str = Field(max_length=80)


class NewRoleGrant(_Body):
    person_id: UUID
    role: StaffRole


class NewAssistedRegistration(_Body):
    name: str = Field(max_length=200)
    id_number: str = Field(max_length=64, description="A mainland resident ID number (18 characters)")
    birth_date: date = Field(description="As on the person's card; must agree with the ID number")


# --- answers (API.md's bodies; declared on the routes, so OpenAPI has their schemas) -----


class PersonOut(BaseModel):
    person_id: UUID
    masked_name: str
    masked_id: str

    @classmethod
    def of(cls, person: Person) -> PersonOut:
        return cls(person_id=person.person_id, masked_name=person.masked_name, masked_id=person.masked_id)


class AssistedRegistrationOut(PersonOut):
    registered_at: Instant


class RefreshIn(_Body):
    refresh_token: str | None = Field(
        default=None,
        max_length=REFRESH_TOKEN_MAX_CHARS,
        description="The refresh token; a browser leaves it out and sends the vc_refresh cookie",
    )


class SessionOut(BaseModel):
    """A sign-in or a refresh: API.md's access token, plus the refresh token (issue 16)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name, no secret
    expires_in: int = Field(description="seconds the access token is valid")
    person_id: UUID
    roles: list[str]
    refresh_token: str = Field(
        description="opaque; trade it at POST /sessions/refresh for the next one (single use)"
    )
    refresh_expires_in: int = Field(description="seconds the refresh token is valid if unused")


class SignedOutEverywhere(BaseModel):
    revoked_sessions: int = Field(description="sign-ins (devices) that were still live")


class RegionOut(BaseModel):
    code: str
    name: str
    selectable: bool


class RegionsOut(BaseModel):
    parent: str | None
    source: str
    regions: list[RegionOut]


class VenueOut(VenuePlaceOut):
    declaration_code: str
    poster_version: int

    @classmethod
    def of(cls, venue: Venue) -> VenueOut:
        return cls(
            venue_id=venue.venue_id,
            region_code=venue.region_code,
            region_names=RegionNamesOut.of_code(venue.region_code),
            name=venue.name,
            address=venue.address,
            category=venue.category.value,
            declaration_code=venue.declaration_code,
            poster_version=venue.poster_version,
        )


class InspectorOut(BaseModel):
    person_id: UUID
    masked_name: str
    bound_at: Instant


class MyVenueOut(VenueOut):
    inspectors: list[InspectorOut]


class DeclarationCodeOut(BaseModel):
    declaration_code: str


class PosterOut(BaseModel):
    venue_id: UUID
    poster_version: int


class BindingOut(BaseModel):
    venue_id: UUID
    name: str
    region_code: str


class BoundVenueOut(BindingOut):
    region_names: RegionNamesOut | None
    bound_at: Instant
    is_administrator: bool
    poster_version: int
    # The inspector's quick "temperature normal" check-in opens the poster's own page.
    venue_token: str


class BoundVenuesOut(BaseModel):
    venues: list[BoundVenueOut]


class DependentsOut(BaseModel):
    dependents: list[Dependent]


class GuardianOut(BaseModel):
    """A link on the caller, with the notice of what an active link lets the guardian do."""

    guardian_id: UUID
    masked_name: str
    relation: str
    linked_at: Instant
    state: LinkState
    can: list[str] = Field(default_factory=lambda: list(POWERS))

    @classmethod
    def of(cls, found: Guardian) -> GuardianOut:
        return cls(**asdict(found))


class GuardiansOut(BaseModel):
    guardians: list[GuardianOut]


class RoleGrantOut(BaseModel):
    person_id: UUID
    role: StaffRole
    granted_by: UUID

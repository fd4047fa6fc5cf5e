"""The registry's models: venue categories, relations, provinces, the rows its store returns,
and the request and response bodies of its API."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events import IdKind, StaffRole


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

# GB/T 2260 province-level names by the first two digits of a region code (for posters).
PROVINCES: dict[int, str] = {
    11: "北京市", 12: "天津市", 13: "河北省", 14: "山西省", 15: "内蒙古自治区",
    21: "辽宁省", 22: "吉林省", 23: "黑龙江省",
    31: "上海市", 32: "江苏省", 33: "浙江省", 34: "安徽省", 35: "福建省", 36: "江西省", 37: "山东省",
    41: "河南省", 42: "湖北省", 43: "湖南省", 44: "广东省", 45: "广西壮族自治区", 46: "海南省",
    50: "重庆市", 51: "四川省", 52: "贵州省", 53: "云南省", 54: "西藏自治区",
    61: "陕西省", 62: "甘肃省", 63: "青海省", 64: "宁夏回族自治区", 65: "新疆维吾尔自治区",
    71: "台湾省", 81: "香港特别行政区", 82: "澳门特别行政区",
}  # fmt: skip


def region_label(region_code: str) -> str:
    """The province name and the full code, e.g. ``广东省 440305``."""
    province = PROVINCES.get(int(region_code[:2]), "")
    return f"{province} {region_code}".strip()


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


# --- answers (API.md's bodies; declared on the routes, so OpenAPI has their schemas) -----


class PersonOut(BaseModel):
    person_id: UUID
    masked_name: str
    masked_id: str

    @classmethod
    def of(cls, person: Person) -> PersonOut:
        return cls(person_id=person.person_id, masked_name=person.masked_name, masked_id=person.masked_id)


class SessionOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name, no secret
    expires_in: int
    person_id: UUID
    roles: list[str]


class VenueOut(BaseModel):
    venue_id: UUID
    region_code: str
    name: str
    address: str | None
    category: str
    declaration_code: str
    poster_version: int

    @classmethod
    def of(cls, venue: Venue) -> VenueOut:
        return cls(
            venue_id=venue.venue_id,
            region_code=venue.region_code,
            name=venue.name,
            address=venue.address,
            category=venue.category.value,
            declaration_code=venue.declaration_code,
            poster_version=venue.poster_version,
        )


class InspectorOut(BaseModel):
    person_id: UUID
    masked_name: str
    bound_at: datetime


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
    bound_at: datetime
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
    linked_at: datetime
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

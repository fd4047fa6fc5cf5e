"""Internal models of the registry: venue categories, relations, provinces and the rows it reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from shared.events import IdKind
from shared.regions import RegionNames, regions


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


@dataclass(frozen=True)
class Dependent:
    """A link seen from the guardian's side: the person, masked."""

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


HandoverKind = Literal["offer", "reassignment"]
HandoverState = Literal["pending", "accepted", "declined", "cancelled", "expired", "done"]


@dataclass(frozen=True)
class Handover:
    """A change of a venue's administrator: an offer the named account answers, or an
    operator's reassignment (``done`` at once). Rows are never deleted: they are the audit."""

    handover_id: UUID
    venue_id: UUID
    venue_name: str
    kind: HandoverKind
    from_id: UUID
    from_masked_name: str
    to_id: UUID
    to_masked_name: str
    requested_by: UUID
    state: HandoverState
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class OutboxRow:
    outbox_id: int
    topic: str
    key: bytes
    payload: str


class RegionOut(BaseModel):
    code: str
    name: str
    selectable: bool


class RegionsOut(BaseModel):
    parent: str | None
    source: str
    regions: list[RegionOut]


class RegionNamesOut(BaseModel):
    """A venue's region by level, as GB/T 2260 names them (``city`` is 市辖区 in Beijing)."""

    province: str
    city: str | None
    district: str | None

    @classmethod
    def of(cls, names: RegionNames) -> RegionNamesOut:
        return cls(province=names.province, city=names.city, district=names.district)


class HandoverOut(BaseModel):
    handover_id: UUID
    venue_id: UUID
    venue_name: str
    kind: HandoverKind
    from_person_id: UUID
    from_masked_name: str
    to_person_id: UUID
    to_masked_name: str
    requested_by: UUID
    state: HandoverState
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, found: Handover) -> HandoverOut:
        return cls(
            handover_id=found.handover_id,
            venue_id=found.venue_id,
            venue_name=found.venue_name,
            kind=found.kind,
            from_person_id=found.from_id,
            from_masked_name=found.from_masked_name,
            to_person_id=found.to_id,
            to_masked_name=found.to_masked_name,
            requested_by=found.requested_by,
            state=found.state,
            created_at=found.created_at,
            expires_at=found.expires_at,
            decided_at=found.decided_at,
        )


class HandoversOut(BaseModel):
    handovers: list[HandoverOut]

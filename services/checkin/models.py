"""Internal models of the checkin service: read-model rows and the outcomes of its rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.events import CheckinMethod, ObservedColour


@dataclass(frozen=True)
class Venue:
    venue_id: UUID
    name: str
    poster_version: int
    administrator_id: UUID | None


@dataclass(frozen=True)
class PersonView:
    """A person as a scan sees them: masked identity and whether the caller may act for them."""

    person_id: UUID
    masked_name: str
    masked_id: str
    allowed: bool
    relation: str | None  # None for the caller themself


@dataclass(frozen=True)
class ScanContext:
    """Everything one scan needs from the read model, fetched in one round trip."""

    venue: Venue
    people: tuple[PersonView, ...]


@dataclass(frozen=True)
class InspectionContext:
    bound: bool
    person: PersonView | None
    # The highest paper-code serial status announced for the person; None when none arrived yet.
    paper_serial: int | None = None


@dataclass(frozen=True)
class VenueStaff:
    """Whether a venue is known and whether the caller administers or inspects it."""

    exists: bool
    is_staff: bool


@dataclass(frozen=True)
class RecordedCheckin:
    checkin_id: UUID
    person_id: UUID
    masked_name: str
    masked_id: str
    colour: ObservedColour
    reason: str
    method: CheckinMethod
    checked_in_at: datetime


@dataclass(frozen=True)
class Checkout:
    person_id: UUID
    checked_out_at: datetime

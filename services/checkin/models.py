"""The checkin service's models: HTTP requests and answers (pydantic), read-model rows and the
outcomes of its rules (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from shared.events import CheckinMethod, ObservedColour, TemperatureBand
from shared.i18n import Language, reason_text
from shared.web import Instant

# A household with its elderly and children fits; a larger group is a tour, which inspectors scan.
MAX_GROUP = 20
# Tokens are ~150 base32 characters (shared.tokens); anything far longer is not one.
MAX_TOKEN = 200


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


@dataclass(frozen=True)
class ScanResult:
    venue: Venue
    checkins: tuple[RecordedCheckin, ...]


@dataclass(frozen=True)
class ScanOutcome:
    replayed: bool
    result: ScanResult


# A scan's answer as Redis keeps it for a replay (cache.py), and back.
_RESULT = TypeAdapter(ScanResult)


def result_to_json(result: ScanResult) -> dict[str, Any]:
    data: dict[str, Any] = _RESULT.dump_python(result, mode="json")
    return data


def result_json(result: ScanResult) -> bytes:
    """``result_to_json`` as JSON bytes, in one step (what Redis keeps for a replay)."""
    return _RESULT.dump_json(result)


def result_from_json(data: dict[str, Any]) -> ScanResult:
    return _RESULT.validate_python(data)


# --- requests -------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScanRequest(_Body):
    venue_token: str = Field(min_length=1, max_length=MAX_TOKEN)
    person_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=MAX_GROUP)
    temperature_band: TemperatureBand | None = None
    # An addition to API.md: when the phone scanned (RFC 3339 with offset). The page sends
    # the same value on every attempt, so a retry is stored at the first attempt's time even
    # when checkin's Redis was down; trusted within 24 h back and 2 min ahead (scantime.py).
    scanned_at: AwareDatetime | None = Field(
        default=None,
        description="When the phone scanned; the same on every attempt of one scan. Used as"
        " checked_in_at (to the millisecond) within 24 h back and 2 min ahead of the server's clock.",
    )


class CheckoutRequest(_Body):
    venue_token: str = Field(min_length=1, max_length=MAX_TOKEN)
    person_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=MAX_GROUP)


class InspectionRequest(_Body):
    venue_id: UUID
    health_code_token: str = Field(min_length=1, max_length=MAX_TOKEN)
    temperature_band: TemperatureBand
    # An addition to API.md (issue 16): a fever is never recorded by a slip of the finger.
    fever_acknowledged: bool = Field(
        default=False,
        description="The inspector saw the fever warning and confirms the entry anyway (the venue's"
        " own fever procedure applies). Required true when temperature_band is fever: 422 otherwise.",
    )


# --- answers --------------------------------------------------------------------------------

# Times are answered as Python writes them (``+00:00``), as they always were (``shared.web.Instant``).
Moment = Instant


class VenueAnswer(BaseModel):
    venue_id: UUID
    name: str


class CheckinAnswer(BaseModel):
    checkin_id: UUID
    person_id: UUID
    masked_name: str
    colour: ObservedColour
    reason: str
    reason_text: str
    checked_in_at: Moment

    @classmethod
    def of(cls, checkin: RecordedCheckin, language: Language) -> CheckinAnswer:
        return cls(
            checkin_id=checkin.checkin_id,
            person_id=checkin.person_id,
            masked_name=checkin.masked_name,
            colour=checkin.colour,
            reason=checkin.reason,
            reason_text=reason_text(checkin.reason, language),
            checked_in_at=checkin.checked_in_at,
        )


class InspectionAnswer(CheckinAnswer):
    """An inspector's reverse scan also shows the masked identity number, to compare with a card."""

    masked_id: str

    @classmethod
    def of(cls, checkin: RecordedCheckin, language: Language) -> InspectionAnswer:
        return cls(**CheckinAnswer.of(checkin, language).model_dump(), masked_id=checkin.masked_id)


class ScanAnswer(BaseModel):
    venue: VenueAnswer
    checkins: list[CheckinAnswer]


class CheckoutAnswer(BaseModel):
    person_id: UUID
    checked_out_at: Moment


class CheckoutsAnswer(BaseModel):
    checkouts: list[CheckoutAnswer]


class ClosedVenueAnswer(CheckoutsAnswer):
    venue_id: UUID


class PersonAnswer(BaseModel):
    person_id: UUID
    masked_name: str
    is_self: bool = Field(serialization_alias="self")
    relation: str | None


class PeopleAnswer(BaseModel):
    people: list[PersonAnswer]


class InspectorVenuesAnswer(BaseModel):
    """The venues the caller inspects (the assisted lookup page offers them for its one-step entry)."""

    venues: list[VenueAnswer]

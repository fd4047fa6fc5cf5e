"""Models of the tracing service: the rows a store returns, the bodies its routes take, and the
bodies of its JSON answers; outbreak work's are in ``models_outbreaks.py``. Never the wire events
(``shared.events``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, NamedTuple
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.answers import VenuePlaceOut
from shared.events import Colour, IdKind
from shared.web import Instant


class Row(BaseModel):
    """A row as the store returns it: frozen."""

    model_config = ConfigDict(frozen=True)


class AuditAction(StrEnum):
    PRESENCE = "presence_query"
    CONTACT_QUERY = "contact_query"
    QUERY_VIEW = "contact_query_view"
    EXPORT = "export"
    NOTIFICATION = "notification"
    SETTINGS = "settings_change"
    PERSON_LOOKUP = "person_lookup"
    EXPOSURE_ANALYSIS = "exposure_analysis"
    EXPOSURE_VIEW = "exposure_analysis_view"
    OUTBREAK_GRAPH = "outbreak_graph"
    OUTBREAK_EXPORT = "outbreak_export"
    ALERT_CREATED = "venue_alert_created"
    ALERT_APPROVED = "venue_alert_approved"
    ALERT_VIEW = "venue_alert_view"
    ALERT_PERSON_CHANGED = "venue_alert_person_changed"
    ALERT_WITHDRAWN = "venue_alert_withdrawn"


class CheckinRow(NamedTuple):
    """One check-in as it is stored; the field order is the COPY order (a plain tuple is cheap:
    the consumer makes one per event, after the wire decoder has validated every field)."""

    checkin_id: UUID
    person_id: UUID
    venue_id: UUID
    method: str
    temperature_band: str | None
    colour_at_checkin: str
    inspector_id: UUID | None
    guardian_id: UUID | None
    checked_in_at: datetime


CHECKIN_COLUMNS: tuple[str, ...] = CheckinRow._fields


class CheckoutRow(NamedTuple):
    person_id: UUID
    venue_id: UUID
    checked_out_at: datetime


class Venue(Row):
    venue_id: UUID
    region_code: str
    name: str
    category: str
    typical_stay_minutes: int | None
    address: str | None = None
    poster_version: int = 1


class Person(Row):
    person_id: UUID
    id_kind: str
    masked_name: str
    masked_id: str


class PresenceRow(Row):
    person_id: UUID
    checked_in_at: datetime
    method: str
    colour_at_checkin: str


class OwnVisit(Row):
    checkin_id: UUID
    venue_id: UUID
    venue_name: str | None
    checked_in_at: datetime
    checked_out_at: datetime | None
    method: str
    colour_at_checkin: str


class CaseVisit(Row):
    """One visit of the case inside the query window, with the end the query computed."""

    checkin_id: UUID
    venue_id: UUID
    venue_name: str | None
    checked_in_at: datetime
    ends_at: datetime
    checked_out_at: datetime | None


# A plain dataclass, not a model: the store makes one per row, the columns typed by Postgres
# (uuid, timestamptz, float8) as the fields are, and a skewed depth-2 answer has thousands (a
# pydantic ``model_construct`` each was ~4.5 us of CPU, ~7 ms for 1,500 contacts). pydantic
# reads its fields for the response model and OpenAPI as it reads a model's.
@dataclass(frozen=True, slots=True)
class ContactOut:
    """One person found by a contact query, at the visit of their largest overlap;
    ``via_person_id`` is whom they met there (the case at depth 1, a depth-1 contact at depth 2)."""

    person_id: UUID
    venue_id: UUID
    venue_name: str | None
    contact_checked_in_at: datetime
    case_checked_in_at: datetime
    overlap_minutes: float
    depth: int
    via_person_id: UUID


@dataclass(frozen=True, slots=True)
class Contact(ContactOut):
    """A contact as the store finds it: ``met_at`` is the earliest start of any qualifying
    overlap with that side, from which depth 2 starts looking (never in an answer)."""

    met_at: datetime | None = None


class QueryParameters(Row):
    person_id: UUID
    from_at: datetime
    to_at: datetime
    dwell_minutes: int | None
    min_overlap_minutes: int
    depth: int


class ContactQueryResult(Row):
    query_id: UUID
    requested_by: UUID
    parameters: QueryParameters
    case_visits: list[CaseVisit]
    contacts: list[Contact]
    created_at: datetime


class ContactAnswer(Row):
    """A contact query as the store answers it: the answer's ``case_visits`` and ``contacts``
    arrays as JSON, written by Postgres (``sql_answer.ANSWER``) and passed through."""

    query_id: UUID
    requested_by: UUID
    parameters: QueryParameters
    created_at: datetime
    case_visits_json: bytes = Field(repr=False)
    contacts_json: bytes = Field(repr=False)
    contact_count: int


class AuditEntry(Row):
    actor_id: UUID
    action: str
    query_id: UUID | None
    subject_id: UUID | None
    count: int
    at: datetime
    detail: dict[str, Any]


# --- requests (the bodies api.py parses) ----------------------------------------


class ContactQueryIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    person_id: UUID
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    # 12 hours at most (API.md); a visit shorter than a minute is not a visit.
    dwell_minutes: int | None = Field(default=None, ge=1, le=720)
    min_overlap_minutes: int = Field(default=1, ge=1, le=720)
    depth: Literal[1, 2] = 1


class NotificationIn(BaseModel):
    colour: Colour
    reason: str = Field(min_length=1, max_length=64)


class PersonLookupIn(BaseModel):
    id_kind: IdKind
    id_number: str = Field(min_length=4, max_length=32)


class PausedIn(BaseModel):
    paused: bool


# --- answers (the response models of api.py; API.md's bodies) ---------------------


class PresenceOut(BaseModel):
    venue_id: UUID
    checkins: list[PresenceRow]


class OwnVisitsOut(BaseModel):
    person_id: UUID
    visits: list[OwnVisit]
    checkins: list[OwnVisit] = Field(description="the same visits, under the name API.md first gave them")


class ContactQueryOut(BaseModel):
    query_id: UUID
    person_id: UUID
    from_: Instant = Field(serialization_alias="from")
    to: Instant
    dwell_minutes: int | None
    min_overlap_minutes: int
    depth: int
    created_at: Instant
    requested_by: UUID
    case_visits: list[CaseVisit]
    contacts: list[ContactOut] = Field(description="depth 1, then depth 2, each by overlap, largest first")

    @classmethod
    def of(cls, result: ContactQueryResult) -> ContactQueryOut:
        p = result.parameters
        return cls(
            query_id=result.query_id,
            person_id=p.person_id,
            from_=p.from_at,
            to=p.to_at,
            dwell_minutes=p.dwell_minutes,
            min_overlap_minutes=p.min_overlap_minutes,
            depth=p.depth,
            created_at=result.created_at,
            requested_by=result.requested_by,
            case_visits=result.case_visits,
            contacts=list(result.contacts),
        )


class NotificationOut(BaseModel):
    query_id: UUID
    notified: int = Field(description="how many status.set commands went out")
    colour: Colour
    reason: str


class PausedOut(BaseModel):
    paused: bool


class AuditOut(BaseModel):
    entries: list[AuditEntry]


class ComplianceRow(Row):
    """A venue as the compliance view reads it (issue 16)."""

    venue_id: UUID
    region_code: str
    name: str
    address: str | None
    category: str
    poster_version: int
    printed_version: int
    registered_at: datetime | None
    last_checkin_at: datetime | None


class LaggingVenueOut(VenuePlaceOut):
    last_checkin_at: datetime | None
    poster_version: int
    printed_version: int
    reasons: list[Literal["never_scanned", "no_recent_scan", "poster_not_printed"]]


class ComplianceOut(BaseModel):
    region: str | None
    days: int
    since: datetime
    venues: list[LaggingVenueOut]
    next_after: str | None

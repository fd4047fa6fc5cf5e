"""The wire events of API.md: one frozen pydantic class per type, their union and the topics.

Within a version only optional fields are added; a breaking change is a new
class with ``version: Literal[2]`` accepted beside the old one. Consumers
ignore unknown fields and send unknown types or versions to the ``.dlq`` twin.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from shared.ids import uuid7

Colour = Literal["green", "yellow", "red"]
ObservedColour = Literal["green", "yellow", "red", "unknown"]
IdKind = Literal["mainland_id", "hk_macao_permit", "taiwan_permit", "passport", "foreign_permanent_resident"]
CheckinMethod = Literal["self_scan", "proxy_scan", "inspector_scan", "paper_code"]
TemperatureBand = Literal["normal", "fever"]
StaffRole = Literal["epidemiologist", "health_authority", "operator"]

# Topic names; tests and tenants prepend a namespace through ``topic()``.
REGISTRY_TOPIC = "venuecode.registry.v1"
CHECKINS_TOPIC = "venuecode.checkins.v1"
STATUS_TOPIC = "venuecode.status.v1"
STATUS_COMMANDS_TOPIC = "venuecode.status-commands.v1"
DLQ_SUFFIX = ".dlq"


def topic(name: str, namespace: str = "") -> str:
    """The topic as the broker knows it: ``namespace`` + one of the names above."""
    return f"{namespace}{name}"


def dlq(name: str) -> str:
    """The dead-letter twin of a consumed topic."""
    return f"{name}{DLQ_SUFFIX}"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def _now() -> datetime:
    return datetime.now(UTC)


# Covariant: a list of several event types is a list of Envelope[_Data].
Data_co = TypeVar("Data_co", bound=_Data, covariant=True)


class Envelope(BaseModel, Generic[Data_co]):
    """The one envelope every message on every topic has. An event type is a subclass that
    names its ``type`` (a literal, the union's discriminator) and its data:
    ``class VenueRenamed(Envelope[VenueRenamedData])``. A breaking change overrides ``version``.
    The fields are declared here in the order they go onto the wire."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: UUID = Field(default_factory=uuid7)
    occurred_at: datetime = Field(default_factory=_now)
    producer: str = "venuecode"
    type: str
    version: Literal[1] = 1
    data: Data_co


# --- venuecode.registry.v1 ---------------------------------------------------


class PersonRegisteredData(_Data):
    person_id: UUID
    id_kind: IdKind
    birth_date: date | None
    masked_name: str
    masked_id: str
    id_digest: str
    name_digest: str


class PersonRegistered(Envelope[PersonRegisteredData]):
    """Sent when a real-name account or a family member is registered."""

    type: Literal["person.registered"] = "person.registered"


class GuardianLinkedData(_Data):
    guardian_id: UUID
    person_id: UUID
    relation: str


class GuardianLinked(Envelope[GuardianLinkedData]):
    """Sent when a person becomes the guardian of a family member."""

    type: Literal["guardian.linked"] = "guardian.linked"


class GuardianUnlinkedData(_Data):
    guardian_id: UUID
    person_id: UUID
    # Who ended the link: the guardian unlinked, or the person revoked it.
    ended_by: Literal["guardian", "person"]


class GuardianUnlinked(Envelope[GuardianUnlinkedData]):
    """Sent when an active family link ends: the guardian may no longer act for the person."""

    type: Literal["guardian.unlinked"] = "guardian.unlinked"


class VenueRegisteredData(_Data):
    venue_id: UUID
    region_code: str
    name: str
    category: str
    poster_version: int
    administrator_id: UUID | None = None
    typical_stay_minutes: int | None = None
    # Added by issue 16: the street address that tells two branches of one name apart.
    address: str | None = None


class VenueRegistered(Envelope[VenueRegisteredData]):
    """Sent when an administrator registers a venue."""

    type: Literal["venue.registered"] = "venue.registered"


class VenueRenamedData(_Data):
    venue_id: UUID
    name: str


class VenueRenamed(Envelope[VenueRenamedData]):
    """Sent when a venue's full name changes."""

    type: Literal["venue.renamed"] = "venue.renamed"


class VenuePosterReissuedData(_Data):
    venue_id: UUID
    poster_version: int


class VenuePosterReissued(Envelope[VenuePosterReissuedData]):
    """Sent when a venue's poster is reissued, so older posters stop working."""

    type: Literal["venue.poster_reissued"] = "venue.poster_reissued"


class VenueHandedOverData(_Data):
    venue_id: UUID
    from_administrator_id: UUID
    to_administrator_id: UUID
    handover_id: UUID
    # An offer the new administrator accepted, or an operator's direct reassignment.
    kind: Literal["accepted_offer", "operator_reassignment"]
    requested_by: UUID


class VenueHandedOver(Envelope[VenueHandedOverData]):
    """Sent when a venue gets a new administrator (an accepted handover or an operator's reassignment)."""

    type: Literal["venue.handed_over"] = "venue.handed_over"


class VenuePosterPrintedData(_Data):
    venue_id: UUID
    poster_version: int
    format: Literal["png", "svg", "pdf"]


class VenuePosterPrinted(Envelope[VenuePosterPrintedData]):
    """Sent when a poster version's code is downloaded for the first time (so it can be printed)."""

    type: Literal["venue.poster_printed"] = "venue.poster_printed"


class InspectorBindingData(_Data):
    venue_id: UUID
    person_id: UUID


class InspectorBound(Envelope[InspectorBindingData]):
    """Sent when a person binds to a venue as its inspector."""

    type: Literal["inspector.bound"] = "inspector.bound"


class InspectorUnbound(Envelope[InspectorBindingData]):
    """Sent when an inspector leaves a venue or its administrator removes them."""

    type: Literal["inspector.unbound"] = "inspector.unbound"


class RoleGrantedData(_Data):
    person_id: UUID
    role: StaffRole
    granted_by: UUID | None = None


class RoleGranted(Envelope[RoleGrantedData]):
    """Sent when a staff role is granted to a person."""

    type: Literal["role.granted"] = "role.granted"


# --- venuecode.checkins.v1 -----------------------------------------------------


class CheckinRecordedData(_Data):
    checkin_id: UUID
    person_id: UUID
    venue_id: UUID
    method: CheckinMethod
    temperature_band: TemperatureBand | None = None
    colour_at_checkin: ObservedColour
    inspector_id: UUID | None = None
    guardian_id: UUID | None = None
    checked_in_at: datetime


class CheckinRecorded(Envelope[CheckinRecordedData]):
    """Sent when a person's entry into a venue is recorded."""

    type: Literal["checkin.recorded"] = "checkin.recorded"


class CheckoutRecordedData(_Data):
    person_id: UUID
    venue_id: UUID
    checked_out_at: datetime


class CheckoutRecorded(Envelope[CheckoutRecordedData]):
    """Sent when a person's open visit at a venue ends."""

    type: Literal["checkout.recorded"] = "checkout.recorded"


# --- venuecode.status.v1 and venuecode.status-commands.v1 ------------------------


class StatusChangedData(_Data):
    person_id: UUID
    colour: Colour
    reason: str
    version: int
    valid_until: datetime | None = None


class StatusChanged(Envelope[StatusChangedData]):
    """Sent when a person's health-code colour changes."""

    type: Literal["status.changed"] = "status.changed"


class PaperCodeIssuedData(_Data):
    person_id: UUID
    serial: int


class PaperCodeIssued(Envelope[PaperCodeIssuedData]):
    """Sent when a paper health code is printed; every card of the person with a lower serial is revoked."""

    type: Literal["paper_code.issued"] = "paper_code.issued"


class StatusSetData(_Data):
    person_id: UUID
    colour: Colour
    reason: str
    requested_by: UUID
    source_query_id: UUID | None = None
    valid_until: datetime | None = None
    # The venue alert that asks for the change, so that withdrawing it (status.revert) can
    # undo exactly the changes still attributable to it.
    alert_id: UUID | None = None


class StatusSet(Envelope[StatusSetData]):
    """Command: set a person's health-code colour (sent by tracing's notifications)."""

    type: Literal["status.set"] = "status.set"


class StatusRevertData(_Data):
    alert_id: UUID
    requested_by: UUID


class StatusRevert(Envelope[StatusRevertData]):
    """Command: undo a withdrawn venue alert's changes where nothing changed the person since."""

    type: Literal["status.revert"] = "status.revert"


# The registry's events but the last added, which stands last in every union below: the order
# of a union is the order of the expected tags a decoding error names.
_REGISTRY = (
    PersonRegistered
    | GuardianLinked
    | VenueRegistered
    | VenueRenamed
    | VenuePosterReissued
    | VenueHandedOver
    | VenuePosterPrinted
    | InspectorBound
    | InspectorUnbound
    | RoleGranted
)
RegistryEvent = Annotated[_REGISTRY | GuardianUnlinked, Field(discriminator="type")]
CheckinEvent = Annotated[CheckinRecorded | CheckoutRecorded, Field(discriminator="type")]
# What the status service publishes on venuecode.status.v1.
StatusEvent = Annotated[StatusChanged | PaperCodeIssued, Field(discriminator="type")]
# What goes onto venuecode.status-commands.v1.
StatusCommand = StatusSet | StatusRevert
Event = Annotated[
    _REGISTRY
    | CheckinRecorded
    | CheckoutRecorded
    | StatusChanged
    | PaperCodeIssued
    | StatusSet
    | StatusRevert
    | GuardianUnlinked,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
REGISTRY_EVENT_ADAPTER: TypeAdapter[RegistryEvent] = TypeAdapter(RegistryEvent)
CHECKIN_EVENT_ADAPTER: TypeAdapter[CheckinEvent] = TypeAdapter(CheckinEvent)
STATUS_EVENT_ADAPTER: TypeAdapter[StatusEvent] = TypeAdapter(StatusEvent)

E = TypeVar("E")


def encode(event: BaseModel) -> bytes:
    """The JSON bytes of an envelope, as they go onto a topic."""
    return event.model_dump_json().encode()


def decode(raw: bytes | str, adapter: TypeAdapter[E]) -> E:
    """Parse one message; raises ``pydantic.ValidationError`` for anything unknown."""
    return adapter.validate_json(raw)

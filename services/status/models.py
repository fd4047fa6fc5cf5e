"""Internal models of the status service: read-model rows, status records and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Literal, Protocol
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events import Colour, IdKind

TokenKind = Literal["dynamic", "paper"]
# How long the assisted-lookup page shows the answer before clearing it (the policy's 10 s).
DISPLAY_SECONDS = 10


class Clock(Protocol):
    """Where the service reads the time, so expiry and token lifetimes are testable without sleeps."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Source(StrEnum):
    """What made a status change."""

    AUTHORITY = "authority"
    COMMAND = "command"
    EXPIRY = "expiry"
    REVERT = "revert"


class LookupResult(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    INVALID_NUMBER = "invalid_number"
    AGE_REFUSED = "age_refused"
    RATE_LIMITED = "rate_limited"


class VerifyResult(StrEnum):
    SHOWN = "shown"
    FORGED = "forged"
    EXPIRED = "expired"
    REVOKED = "revoked"
    UNKNOWN_PERSON = "unknown_person"


@dataclass(frozen=True)
class Person:
    """One row of the identity read model (from person.registered)."""

    person_id: UUID
    id_kind: IdKind
    id_digest: str
    name_digest: str
    birth_date: date | None
    masked_name: str
    masked_id: str
    registered_at: datetime


@dataclass(frozen=True)
class StatusRecord:
    """A person's recorded status as stored (expiry not yet applied)."""

    person_id: UUID
    colour: Colour
    reason: str
    version: int
    valid_until: datetime | None
    effective_at: datetime
    updated_at: datetime

    def expired(self, now: datetime) -> bool:
        return self.valid_until is not None and self.valid_until <= now


@dataclass(frozen=True)
class Shown:
    """What a reader sees now: an expired colour already reads as green."""

    person_id: UUID
    colour: Colour
    reason: str
    version: int
    valid_until: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, record: StatusRecord, now: datetime) -> Shown:
        if record.expired(now) and record.colour != "green":
            assert record.valid_until is not None
            return cls(record.person_id, "green", "none", record.version, None, record.valid_until)
        return cls(
            record.person_id,
            record.colour,
            record.reason,
            record.version,
            record.valid_until,
            record.updated_at,
        )


@dataclass(frozen=True)
class HistoryRow:
    """One recorded change of a person's colour, as the health authority reads it."""

    colour: Colour
    reason: str
    version: int
    valid_until: datetime | None
    effective_at: datetime
    recorded_at: datetime
    source: Source


@dataclass(frozen=True)
class Dependent:
    """A person in a guardian's care, as the health-code page lists them."""

    person_id: UUID
    masked_name: str


@dataclass(frozen=True)
class Change:
    """A requested status change, before the version check."""

    person_id: UUID
    colour: Colour
    reason: str
    valid_until: datetime | None
    effective_at: datetime
    source: Source
    set_by: UUID | None
    source_query_id: UUID | None = None
    note: str | None = None
    alert_id: UUID | None = None


# --- the API's request and response bodies (API.md) ----------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class HealthCodeOut(_Out):
    person_id: UUID
    masked_name: str
    colour: Colour
    reason: str
    reason_text: str
    updated_at: datetime
    token: str
    token_expires_at: datetime


class VerifyIn(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class VerifyOut(_Out):
    person_id: UUID
    masked_name: str
    masked_id: str
    colour: Colour
    reason: str
    reason_text: str
    token_kind: TokenKind


class StatusIn(BaseModel):
    colour: Colour
    reason: str = Field(max_length=64)
    valid_until: AwareDatetime | None = None
    note: str | None = Field(default=None, max_length=1000)


class StatusOut(_Out):
    person_id: UUID
    colour: Colour
    reason: str
    reason_text: str
    version: int
    valid_until: datetime | None
    updated_at: datetime


class LookupIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(min_length=1, max_length=40)


class LookupOut(_Out):
    masked_name: str
    colour: Colour
    reason: str
    reason_text: str
    display_seconds: int = DISPLAY_SECONDS


class HistoryEntry(_Out):
    colour: Colour
    reason: str
    reason_text: str
    version: int
    valid_until: datetime | None
    effective_at: datetime
    recorded_at: datetime
    source: str


class HistoryOut(_Out):
    person_id: UUID
    history: list[HistoryEntry]

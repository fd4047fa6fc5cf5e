"""Internal models of the status service: read-model rows, status records and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Literal, Protocol
from uuid import UUID

from shared.events import Colour, IdKind

TokenKind = Literal["dynamic", "paper"]


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

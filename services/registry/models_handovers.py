"""The registry's models of venue handovers (issue 16): the rows ``store_handovers`` returns and
the bodies of the handover routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.registry.models import _Body
from shared.web import Instant

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


class NewHandover(_Body):
    """The account the venue goes to: by its phone number or by its person id (one of them)."""

    to_phone: str | None = Field(default=None, max_length=32)
    to_person_id: UUID | None = None


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
    created_at: Instant
    expires_at: Instant
    decided_at: Instant | None

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

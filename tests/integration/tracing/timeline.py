"""Hand-built timelines for tracing tests: check-in and check-out events at chosen times."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.tracing.models import QueryParameters
from shared.events import CheckinRecorded, CheckinRecordedData, CheckoutRecorded, CheckoutRecordedData


def base_time() -> datetime:
    """A whole hour two days ago: inside retention, clear of today's edge."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now - timedelta(days=2)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def checkin(person: UUID, venue: UUID, at: datetime, checkin_id: UUID | None = None) -> CheckinRecorded:
    return CheckinRecorded(
        data=CheckinRecordedData(
            checkin_id=checkin_id or uuid.uuid4(),
            person_id=person,
            venue_id=venue,
            method="self_scan",
            temperature_band="normal",
            colour_at_checkin="green",
            checked_in_at=at,
        )
    )


def checkout(person: UUID, venue: UUID, at: datetime) -> CheckoutRecorded:
    return CheckoutRecorded(data=CheckoutRecordedData(person_id=person, venue_id=venue, checked_out_at=at))


def query(
    person: UUID,
    start: datetime,
    end: datetime,
    *,
    depth: int = 1,
    dwell: int | None = None,
    min_overlap: int = 1,
) -> QueryParameters:
    return QueryParameters(
        person_id=person,
        from_at=start,
        to_at=end,
        dwell_minutes=dwell,
        min_overlap_minutes=min_overlap,
        depth=depth,
    )

"""Hand-built timelines for tracing tests: check-in and check-out events at chosen times."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from services.tracing.models import CheckinRow, CheckoutRow, QueryParameters
from services.tracing.pipeline import Ingest, IngestOutcome
from services.tracing.wire import decode_row
from shared.events import (
    CheckinRecorded,
    CheckinRecordedData,
    CheckoutRecorded,
    CheckoutRecordedData,
    encode,
)


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


async def write_events(ingest: Ingest, events: Sequence[CheckinRecorded | CheckoutRecorded]) -> IngestOutcome:
    """Write events as the consumer does: their bytes decoded into rows, one batch."""
    rows = [decode_row(encode(e)) for e in events]
    checkins = [r for r in rows if isinstance(r, CheckinRow)]
    return await ingest.write(checkins, [r for r in rows if isinstance(r, CheckoutRow)])


async def partition_names(pool: asyncpg.Pool) -> list[str]:
    """The partitions of ``tracing.checkins``, by name."""
    rows = await pool.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'tracing.checkins'::regclass ORDER BY c.relname"
    )
    return [row["relname"] for row in rows]

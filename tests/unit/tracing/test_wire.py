"""The check-in stream decoder: the same verdict as the event classes, rows in COPY order."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from services.tracing.models import CHECKIN_COLUMNS, CheckinRow, CheckoutRow
from services.tracing.wire import decode_row, mirror
from shared.events import (
    CHECKIN_EVENT_ADAPTER,
    CheckinRecorded,
    CheckinRecordedData,
    CheckoutRecorded,
    CheckoutRecordedData,
    decode,
    encode,
)

# hypothesis takes naive bounds and attaches the zone itself
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC).replace(tzinfo=None)
LATEST = datetime(2030, 1, 1, tzinfo=UTC).replace(tzinfo=None)
instants = st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC))
checkins = st.builds(
    CheckinRecordedData,
    checkin_id=st.uuids(),
    person_id=st.uuids(),
    venue_id=st.uuids(),
    method=st.sampled_from(["self_scan", "proxy_scan", "inspector_scan", "paper_code"]),
    temperature_band=st.sampled_from([None, "normal", "fever"]),
    colour_at_checkin=st.sampled_from(["green", "yellow", "red", "unknown"]),
    inspector_id=st.none() | st.uuids(),
    guardian_id=st.none() | st.uuids(),
    checked_in_at=instants,
)


def row_of(event: CheckinRecorded | CheckoutRecorded) -> CheckinRow | CheckoutRow:
    """The oracle: the store row of an event validated by the classes, read field by field."""
    if isinstance(event, CheckoutRecorded):
        return CheckoutRow(event.data.person_id, event.data.venue_id, event.data.checked_out_at)
    data = event.data
    return CheckinRow(
        data.checkin_id,
        data.person_id,
        data.venue_id,
        data.method,
        data.temperature_band,
        data.colour_at_checkin,
        data.inspector_id,
        data.guardian_id,
        data.checked_in_at,
    )


@given(checkins)
def test_a_checkin_becomes_its_row_field_for_field(data: CheckinRecordedData) -> None:
    row = decode_row(encode(CheckinRecorded(data=data)))
    assert isinstance(row, CheckinRow)
    assert row == tuple(getattr(data, name) for name in CHECKIN_COLUMNS)
    assert row._fields == CHECKIN_COLUMNS


@given(st.uuids(), st.uuids(), instants)
def test_a_checkout_becomes_its_row(person: UUID, venue: UUID, at: datetime) -> None:
    event = CheckoutRecorded(data=CheckoutRecordedData(person_id=person, venue_id=venue, checked_out_at=at))
    assert decode_row(encode(event)) == CheckoutRow(person, venue, at)


def _mutations() -> list[bytes]:
    good = orjson.loads(
        encode(
            CheckinRecorded(
                data=CheckinRecordedData(
                    checkin_id=UUID(int=1),
                    person_id=UUID(int=2),
                    venue_id=UUID(int=3),
                    method="self_scan",
                    colour_at_checkin="green",
                    checked_in_at=datetime(2026, 11, 1, 8, tzinfo=UTC),
                )
            )
        )
    )
    bad: list[dict[str, object]] = [
        {**good, "version": 2},
        {**good, "type": "status.set"},
        {**good, "data": {**good["data"], "method": "teleport"}},
        {**good, "data": {**good["data"], "person_id": "not-a-uuid"}},
        {**good, "data": {k: v for k, v in good["data"].items() if k != "checked_in_at"}},
    ]
    return [b"", b"{not json", b"[]", *(orjson.dumps(m) for m in bad)]


@pytest.mark.parametrize("raw", _mutations())
def test_what_the_event_classes_refuse_is_refused(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        decode(raw, CHECKIN_EVENT_ADAPTER)
    with pytest.raises(ValidationError):
        decode_row(raw)


# Values a field may be swapped for: right and wrong types, formats the classes accept or not.
odd_values = st.sampled_from(
    [
        None,
        0,
        1,
        2,
        "",
        "x",
        [],
        {},
        "self_scan",
        "fever",
        "unknown",
        "checkin.recorded",
        "checkout.recorded",
        "00000000-0000-0000-0000-000000000001",
        "{00000000-0000-0000-0000-000000000001}",
        "00000000000000000000000000000001",
        "2026-11-01T08:00:00Z",
        "2026-11-01T08:00:00+08:00",
        "2026-11-01",
        1_700_000_000,
    ]
)
ENVELOPE_KEYS = ["event_id", "occurred_at", "producer", "type", "version", "data", "extra"]
DATA_KEYS = [*CHECKIN_COLUMNS, "checked_out_at", "extra"]


@given(
    checkins,
    st.lists(
        st.tuples(st.booleans(), st.sampled_from(ENVELOPE_KEYS + DATA_KEYS), st.none() | odd_values),
        max_size=4,
    ),
)
def test_the_decoder_accepts_exactly_what_the_event_classes_accept(
    data: CheckinRecordedData, changes: list[tuple[bool, str, object]]
) -> None:
    """Fields dropped or swapped at random, in the envelope or in data: the same verdict, the same row."""
    message = orjson.loads(encode(CheckinRecorded(data=data)))
    for in_data, key, value in changes:
        inner = message.get("data")
        target = inner if in_data and key in DATA_KEYS and isinstance(inner, dict) else message
        if value is None and key in target:
            del target[key]
        elif value is not None:
            target[key] = value
    raw = orjson.dumps(message)
    try:
        event = decode(raw, CHECKIN_EVENT_ADAPTER)
    except ValidationError:
        with pytest.raises(ValidationError):
            decode_row(raw)
        return
    assert decode_row(raw) == row_of(event)


def test_a_model_with_rules_a_mirror_cannot_keep_is_refused() -> None:
    class Checked(BaseModel):
        model_config = ConfigDict(extra="ignore")
        person_id: UUID

        @field_validator("person_id")
        @classmethod
        def nonzero(cls, value: UUID) -> UUID:
            return value

    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")
        person_id: UUID

    for model in (Checked, Strict):
        with pytest.raises(TypeError):
            mirror(model)

"""Pure rules of the tracing service: request validation, CSV cells, windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.tracing.api import ContactQueryIn, _instant
from services.tracing.exports import csv_safe
from services.tracing.retention import Retention
from shared.errors import InvalidValue

T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)


def body(**changes: Any) -> dict[str, Any]:
    return {
        "person_id": "0190f0e0-0000-7000-8000-000000000001",
        "from": T0.isoformat(),
        "to": (T0 + timedelta(hours=4)).isoformat(),
        **changes,
    }


def retention() -> Retention:
    return Retention(21, clock=lambda: T0 + timedelta(days=1))


def test_defaults_of_a_contact_query() -> None:
    parsed = ContactQueryIn.model_validate(body())
    assert (parsed.dwell_minutes, parsed.min_overlap_minutes, parsed.depth) == (None, 1, 1)
    assert parsed.from_ == T0


@given(st.integers(min_value=-10_000, max_value=10_000))
def test_dwell_is_between_one_minute_and_twelve_hours(dwell: int) -> None:
    if 1 <= dwell <= 720:
        assert ContactQueryIn.model_validate(body(dwell_minutes=dwell)).dwell_minutes == dwell
    else:
        with pytest.raises(ValidationError) as caught:
            ContactQueryIn.model_validate(body(dwell_minutes=dwell))
        assert caught.value.errors()[0]["loc"] == ("dwell_minutes",)


@given(st.integers(min_value=-5, max_value=5))
def test_depth_is_one_or_two(depth: int) -> None:
    if depth in (1, 2):
        assert ContactQueryIn.model_validate(body(depth=depth)).depth == depth
    else:
        with pytest.raises(ValidationError):
            ContactQueryIn.model_validate(body(depth=depth))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError):
        ContactQueryIn.model_validate(body(**{"from": "2026-11-01T08:00:00"}))


@given(st.text(max_size=20))
def test_csv_cells_never_start_a_formula(text: str) -> None:
    assert csv_safe(text)[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert csv_safe(text).endswith(text)


def test_windows_must_run_forward_and_stay_inside_retention() -> None:
    rules = retention()
    with pytest.raises(InvalidValue) as backwards:
        rules.window(T0, T0)
    assert backwards.value.errors[0]["field"] == "to"
    with pytest.raises(InvalidValue) as too_long:
        rules.window(T0 - timedelta(days=21, minutes=1), T0)
    assert too_long.value.errors[0]["field"] == "from"
    assert rules.window(T0 - timedelta(days=21), T0) == (T0 - timedelta(days=21), T0)
    assert rules.window(None, None) == (T0 - timedelta(days=20), T0 + timedelta(days=1))


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; zones come below
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]),
    )
)
def test_query_string_times_survive_an_unencoded_plus(moment: datetime) -> None:
    text = moment.isoformat()
    assert _instant("from", text) == moment
    assert _instant("from", text.replace("+", " ")) == moment


def test_query_string_times_need_an_offset() -> None:
    assert _instant("to", "2026-11-25T10:00:00Z") == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert _instant("to", None) is None
    for bad in ("2026-11-25T10:00:00", "yesterday"):
        with pytest.raises(InvalidValue) as caught:
            _instant("to", bad)
        assert caught.value.errors[0]["field"] == "to"

"""shared.localtime: a UTC instant pinned to its Shanghai rendering (issue 16)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from shared.localtime import in_shanghai, shanghai_date, shanghai_minute


def test_utc_evening_is_the_next_morning_in_shanghai():
    instant = datetime(2026, 12, 6, 16, 30, tzinfo=UTC)
    assert shanghai_minute(instant) == "2026-12-07 00:30"
    assert shanghai_date(instant) == date(2026, 12, 7)
    assert in_shanghai(instant).utcoffset() == timedelta(hours=8)


def test_any_offset_lands_on_the_same_shanghai_clock():
    new_york = timezone(timedelta(hours=-5))
    assert shanghai_minute(datetime(2026, 12, 6, 11, 30, tzinfo=new_york)) == "2026-12-07 00:30"


def test_summer_has_no_daylight_saving():
    assert shanghai_minute(datetime(2026, 7, 1, 0, 0, tzinfo=UTC)) == "2026-07-01 08:00"


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        shanghai_minute(datetime(2026, 12, 6, 16, 30))  # noqa: DTZ001

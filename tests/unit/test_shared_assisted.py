"""Whom assisted lookup and on-the-spot registration serve: 60 and over, 16 and under, on the day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.assisted import may_be_assisted
from shared.pii import age_on

CHILD = date(2010, 6, 15)
ELDER = date(1966, 6, 15)


@pytest.mark.parametrize(
    ("born", "day", "served"),
    [
        # A child is served through their 16th year: the day they turn 16 (refused before the fix) ...
        (CHILD, date(2026, 6, 15), True),
        (CHILD, date(2026, 6, 14), True),
        # ... up to the day before their 17th birthday, and no longer on it.
        (CHILD, date(2027, 6, 14), True),
        (CHILD, date(2027, 6, 15), False),
        # An elder from their 60th birthday on, not the day before.
        (ELDER, date(2026, 6, 14), False),
        (ELDER, date(2026, 6, 15), True),
        # Born on 29 February: 16 on 29 February 2024, still 16 on 28 February 2025, and 17 on
        # 1 March, as a common year has no 29th; 60 falls on a 29 February (60 is a multiple of 4).
        (date(2008, 2, 29), date(2024, 2, 29), True),
        (date(2008, 2, 29), date(2025, 2, 28), True),
        (date(2008, 2, 29), date(2025, 3, 1), False),
        (date(1964, 2, 29), date(2024, 2, 28), False),
        (date(1964, 2, 29), date(2024, 2, 29), True),
        # A newborn and a centenarian.
        (date(2026, 12, 6), date(2026, 12, 6), True),
        (date(1926, 1, 1), date(2026, 12, 6), True),
    ],
)
def test_the_boundaries_of_the_two_bands(born: date, day: date, served: bool) -> None:
    assert may_be_assisted(born, day) is served


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31)), st.integers(0, 120))
def test_the_bands_are_whole_years_on_the_day(born: date, years: int) -> None:
    day = born + timedelta(days=int(years * 365.25))
    age = age_on(born, day)
    assert may_be_assisted(born, day) == (age >= 60 or age <= 16)

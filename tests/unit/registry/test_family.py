"""Who may be put under guardianship without their own consent: minors and elders, by age on the
day in Asia/Shanghai (issue 17)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.registry.family import ELDER_FROM, MINOR_UNDER, day_in, may_be_under_guardianship

SHANGHAI = "Asia/Shanghai"


def test_the_bounds_are_the_laws() -> None:
    # 未成年人保護法: under 18; 老年人權益保障法: 60 and over.
    assert (MINOR_UNDER, ELDER_FROM) == (18, 60)


@pytest.mark.parametrize(
    ("born", "allowed"),
    [
        (date(2008, 6, 2), False),  # 18 today: an adult
        (date(2008, 6, 3), True),  # 18 tomorrow: still a minor
        (date(1966, 6, 2), True),  # 60 today: an elder
        (date(1966, 6, 3), False),  # 60 tomorrow: not yet
        (date(1990, 1, 1), False),
        (date(2026, 6, 1), True),  # a baby
        (None, False),  # a document without a birth date proves no age
    ],
)
def test_both_bounds_of_both_rules(born: date | None, allowed: bool) -> None:
    assert may_be_under_guardianship(born, date(2026, 6, 2)) is allowed


def test_the_day_is_the_day_in_shanghai_not_in_utc() -> None:
    # 16:30 UTC on 1 June is 00:30 on 2 June in Shanghai.
    instant = datetime(2026, 6, 1, 16, 30, tzinfo=UTC)
    assert day_in(SHANGHAI, instant) == date(2026, 6, 2)
    born_18_years_before_the_2nd = date(2008, 6, 2)
    assert not may_be_under_guardianship(born_18_years_before_the_2nd, day_in(SHANGHAI, instant))

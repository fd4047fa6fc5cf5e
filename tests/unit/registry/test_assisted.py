"""The rule of assisted registration: the card's birth date agrees with the number's, and the age fits."""

from __future__ import annotations

from datetime import date

import pytest

from services.registry.assisted import check_assistable
from services.registry.errors import BirthDateMismatch, NotAssistable

TODAY = date(2026, 12, 6)


def test_an_elder_and_a_sixteen_year_old_are_registered() -> None:
    for born in (date(1966, 12, 6), date(2010, 1, 1), date(2009, 12, 7)):
        assert check_assistable(born, born, TODAY) == born


def test_a_birth_date_that_differs_from_the_number_s_names_the_field() -> None:
    with pytest.raises(BirthDateMismatch) as refused:
        check_assistable(date(1948, 3, 9), date(1948, 3, 10), TODAY)
    assert [e["field"] for e in refused.value.errors] == ["birth_date"]
    with pytest.raises(BirthDateMismatch):
        check_assistable(None, date(1948, 3, 9), TODAY)


@pytest.mark.parametrize("born", [date(2009, 12, 6), date(1966, 12, 7), date(1990, 5, 5)])
def test_a_seventeen_year_old_or_an_adult_under_sixty_registers_themself(born: date) -> None:
    with pytest.raises(NotAssistable):
        check_assistable(born, born, TODAY)

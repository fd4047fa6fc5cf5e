"""Whom assisted lookup (老幼助查) and on-the-spot registration serve: elders and children.

The notice: people aged 60 and over, and children aged 16 and under, who often have no phone
of their own. Ages are whole years (周岁) on the calendar day asked where the platform runs
(Asia/Shanghai), so a 16-year-old is served until the day before their 17th birthday. A person
born on 29 February is a year older on 1 March in a common year (``shared.pii.age_on``).
"""

from __future__ import annotations

from datetime import date

from shared.pii import age_on

ELDERLY_FROM = 60
CHILD_UP_TO = 16


def may_be_assisted(born: date, day: date) -> bool:
    """Whether someone born on ``born`` is 60 or over, or 16 or under, on ``day``."""
    age = age_on(born, day)
    return age >= ELDERLY_FROM or age <= CHILD_UP_TO

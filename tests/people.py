"""Test identities: valid mainland resident IDs (GB 11643) for people of a chosen age."""

from __future__ import annotations

import itertools
from datetime import date

from shared.pii import check_character

_serial = itertools.count(100)


def mainland_id(born: date, region: str = "440106") -> str:
    """A valid 18-character number for someone born on ``born``, new for each call."""
    sequence = f"{next(_serial) % 1000:03d}"
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    return first17 + check_character(first17)


def born_years_ago(years: int, today: date | None = None) -> date:
    day = today or date.today()  # noqa: DTZ011 - a calendar day
    return date(day.year - years, 1, 15)

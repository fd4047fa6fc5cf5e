"""Valid identity numbers for tests: random mainland IDs with a correct GB 11643 check character."""

from __future__ import annotations

import random
from datetime import date, timedelta

from shared.pii import PROVINCE_PREFIXES, check_character

_PREFIXES = sorted(p for p in PROVINCE_PREFIXES if p < 70)


def mainland_id(born: date | None = None, rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    if born is None:
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 60))
    first17 = f"{rng.choice(_PREFIXES):02d}{rng.randrange(10000):04d}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + check_character(first17)


def passport(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    return "E" + "".join(rng.choice("0123456789") for _ in range(8))


def child_id(rng: random.Random | None = None) -> str:
    """A mainland ID of a child from 1 to 12 years old: such a family member needs no account."""
    rng = rng or random.Random()
    return mainland_id(date.today() - timedelta(days=rng.randrange(365, 365 * 12)), rng)  # noqa: DTZ011

"""shared.colours.effective: what a reader shows from a cache entry and the warm marker."""

from __future__ import annotations

import uuid

from shared.colours import GREEN, UNKNOWN, CachedColour, colour_key, effective

NOW = 1_800_000_000.0


def test_missing_entry_is_green_only_when_the_cache_is_warm() -> None:
    assert effective(None, warm=True, now=NOW) == GREEN
    assert effective(None, warm=False, now=NOW) == UNKNOWN
    assert UNKNOWN.colour == "unknown"


def test_an_entry_shows_until_it_expires() -> None:
    red = CachedColour("red", "confirmed_case", 3, valid_until=NOW + 1)
    assert effective(red, warm=False, now=NOW) is red
    assert effective(red, warm=True, now=NOW + 1) == GREEN  # valid_until is exclusive
    assert effective(red, warm=False, now=NOW + 100) == GREEN


def test_an_entry_without_expiry_stays() -> None:
    yellow = CachedColour("yellow", "close_contact", 1)
    assert effective(yellow, warm=False, now=NOW + 10**9) is yellow


def test_encode_decode_round_trip_and_key() -> None:
    entry = CachedColour("yellow", "secondary_contact", 9, NOW)
    assert CachedColour.decode(entry.encode()) == entry
    assert CachedColour.decode(CachedColour("green", "none", 0).encode()).valid_until is None
    person = uuid.UUID(int=1)
    assert colour_key("t1:", person) == f"t1:colour:{person}"

"""shared.colours: what a reader shows from a cache entry and the warm marker; when it reads the marker."""

from __future__ import annotations

import uuid

from shared.colours import (
    GREEN,
    UNKNOWN,
    CachedColour,
    WarmMarker,
    colour_key,
    colours_from_reads,
    effective,
    queue_colour_reads,
)

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
    # The person is the key's hash tag: every person's key is its own cluster slot.
    assert colour_key("t1:", person) == f"t1:colour:{{{person}}}"


class Recorder:
    """A pipeline of our own: notes what was queued, in order."""

    def __init__(self) -> None:
        self.queued: list[tuple[str, str]] = []

    def exists(self, key: str) -> None:
        self.queued.append(("EXISTS", key))

    def get(self, key: str) -> None:
        self.queued.append(("GET", key))


def test_the_warm_marker_is_read_with_a_scan_at_most_every_few_seconds() -> None:
    clock = [100.0]
    marker = WarmMarker("t1:", every_s=2.0, clock=lambda: clock[0])
    red = CachedColour("red", "confirmed_case", 3)
    people = [uuid.UUID(int=1), uuid.UUID(int=2)]

    def read(values: list[bytes | None], marker_value: int | None) -> tuple[list[str], dict[uuid.UUID, str]]:
        pipe = Recorder()
        added = queue_colour_reads(pipe, "t1:", people, marker)
        assert added == len(pipe.queued)
        results: list[object] = ([marker_value] if pipe.queued[0][0] == "EXISTS" else []) + list(values)
        shown = colours_from_reads(people, results, marker, now=NOW)
        return [command for command, _ in pipe.queued], {p: c.colour for p, c in shown.items()}

    # Never read: the first scan reads the marker; a missing key is green only when it exists.
    cold = {people[0]: "red", people[1]: "unknown"}
    assert read([red.encode(), None], 0) == (["EXISTS", "GET", "GET"], cold)
    # Cold: read with every scan, so the refill's end shows at once.
    clock[0] += 0.1
    warm = {people[0]: "green", people[1]: "red"}
    assert read([None, red.encode()], 1) == (["EXISTS", "GET", "GET"], warm)
    # Warm: trusted for 2 s, then read again with a scan.
    clock[0] += 1.9
    assert read([None, None], None) == (["GET", "GET"], {people[0]: "green", people[1]: "green"})
    clock[0] += 0.1
    assert read([None, None], 0) == (["EXISTS", "GET", "GET"], {people[0]: "unknown", people[1]: "unknown"})
    # An error of the cache forgets what the marker said: unknown, and read with the next scan.
    marker.forget()
    assert (marker.warm, marker.due()) == (False, True)

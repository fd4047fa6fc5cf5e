"""scan_time: every attempt of one scan derives the same checked_in_at, with or without Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.checkin.scantime import MAX_AGE, MAX_AHEAD, scan_time, to_millisecond

NOW = datetime(2026, 12, 6, 8, 30, 15, 123456, tzinfo=UTC)
SCANNED = datetime(2026, 12, 6, 16, 29, 58, 987000, tzinfo=timezone(timedelta(hours=8)))


def test_redis_remembering_the_first_attempt_wins_over_everything_else() -> None:
    first = datetime(2026, 12, 6, 8, 29, 0, 250000, tzinfo=UTC)
    assert scan_time(first.timestamp(), SCANNED, NOW) == first


def test_a_scan_time_within_the_bound_is_kept_in_utc_to_the_millisecond() -> None:
    at = scan_time(None, SCANNED, NOW)
    assert at == SCANNED
    assert at.tzinfo == UTC
    assert at.isoformat() == "2026-12-06T08:29:58.987000+00:00"


def test_attempts_with_and_without_redis_agree_for_many_scan_times() -> None:
    """Attempt 1 (Redis up) keeps its time in Redis as a float; attempt 2 reads it back;
    attempt 3 (Redis down) derives it from scanned_at again: all three the same instant."""
    base = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    for n in range(5000):
        scanned = base + timedelta(microseconds=n * 999_983)  # microseconds of every kind
        now = scanned + timedelta(seconds=3)
        first = scan_time(None, scanned, now)
        from_redis = scan_time(first.timestamp(), scanned, now + timedelta(seconds=40))
        redis_down = scan_time(None, scanned, now + timedelta(minutes=9))
        assert first == from_redis == redis_down, scanned


def test_the_bound_on_both_sides() -> None:
    assert scan_time(None, NOW - MAX_AGE, NOW) == to_millisecond(NOW - MAX_AGE)
    assert scan_time(None, NOW + MAX_AHEAD, NOW) == to_millisecond(NOW + MAX_AHEAD)
    # Just outside: the scan time is not trusted and the server's clock is used.
    assert scan_time(None, NOW - MAX_AGE - timedelta(milliseconds=1), NOW) == to_millisecond(NOW)
    assert scan_time(None, NOW + MAX_AHEAD + timedelta(milliseconds=1), NOW) == to_millisecond(NOW)


def test_without_any_client_time_the_server_clock_rounded() -> None:
    assert scan_time(None, None, NOW) == datetime(2026, 12, 6, 8, 30, 15, 123000, tzinfo=UTC)
    assert to_millisecond(datetime(2026, 12, 6, 8, 30, 15, 999600, tzinfo=UTC)) == datetime(
        2026, 12, 6, 8, 30, 16, tzinfo=UTC
    )

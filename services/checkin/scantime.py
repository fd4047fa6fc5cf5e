"""When a scan happened: the one ``checked_in_at`` that every attempt of a scan agrees on.

Tracing keeps one row per key (venue_id, checked_in_at, checkin_id), and a scan's
checkin_id already follows from what a retry carries (caller, Idempotency-Key, person). Its
time must too, also when checkin's Redis was down and could not remember the first attempt:

1. the first attempt's time, when Redis remembers it (``Claim.first_at``);
2. else the page's ``scanned_at``, when it lies within ``[now - MAX_AGE, now + MAX_AHEAD]``:
   the page stores it with the Idempotency-Key and sends both on every attempt, so every
   attempt within the bound derives the same time;
3. else the server's clock (a client that sends no ``scanned_at`` gets today's behaviour;
   a retry of it while Redis is down may then be stored twice, at two times).

Every result is rounded to the millisecond: the page's clock has that resolution, and Redis
keeps the first attempt's time as a float of seconds, which holds milliseconds exactly but
not always the last microsecond, so without rounding attempt 2 (from Redis) and attempt 3
(Redis down, from ``scanned_at``) could differ by a microsecond and both be stored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# The page queues a scan made offline and sends it for up to 24 hours (scan.js), the same
# window in which the Idempotency-Key's answer is replayed; an older scan time is not trusted.
MAX_AGE = timedelta(hours=24)
# A phone's clock may run a little fast; a time further ahead is not a scan time.
MAX_AHEAD = timedelta(minutes=2)


def to_millisecond(at: datetime) -> datetime:
    """``at`` in UTC, rounded to the nearest millisecond."""
    at = at.astimezone(UTC)
    whole = at.replace(microsecond=0)
    return whole + timedelta(milliseconds=round(at.microsecond / 1000))


def scan_time(first_at: float | None, scanned_at: datetime | None, now: datetime) -> datetime:
    """The checked_in_at of a scan attempt (see the module docstring for the order)."""
    if first_at is not None:
        return to_millisecond(datetime.fromtimestamp(first_at, UTC))
    if scanned_at is not None and now - MAX_AGE <= scanned_at <= now + MAX_AHEAD:
        return to_millisecond(scanned_at)
    return to_millisecond(now)

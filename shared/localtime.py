"""Times as people at the door read them: Asia/Shanghai (UTC+8, no daylight saving since 1991).

Instants stay UTC-aware everywhere inside; only what a person reads (pages, posters, paper
codes) is turned to the Shanghai wall clock, here, so every print shows the same clock.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Printed beside a time so a reader knows which clock it is (北京时间 is the name people use).
CLOCK_LABEL = {"zh-Hant": "北京時間", "zh-Hans": "北京时间", "en": "Beijing time"}


def in_shanghai(instant: datetime) -> datetime:
    """The same instant on the Shanghai clock; a naive datetime is refused (its zone is unknown)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("a naive datetime has no zone: pass an aware instant")
    return instant.astimezone(SHANGHAI)


def shanghai_minute(instant: datetime) -> str:
    """``2026-12-07 00:30`` for 2026-12-06T16:30Z."""
    return f"{in_shanghai(instant):%Y-%m-%d %H:%M}"


def shanghai_date(instant: datetime) -> date:
    """The calendar day in Shanghai (a poster printed at 01:00 there carries that day)."""
    return in_shanghai(instant).date()

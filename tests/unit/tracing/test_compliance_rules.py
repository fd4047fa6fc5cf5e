"""Issue 16: the compliance view's rules without a database: region prefixes, the cursor, the
reasons a venue is listed, and the bounds of N and the page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.tracing.compliance import (
    DAYS_MAX,
    PAGE_MAX,
    ComplianceService,
    parse_cursor,
    reasons_of,
    region_prefix,
)
from services.tracing.models import ComplianceRow
from shared.errors import InvalidValue

NOW = datetime(2026, 12, 6, 16, 30, tzinfo=UTC)


def row(last: datetime | None, printed: int = 1, poster: int = 1) -> ComplianceRow:
    return ComplianceRow(
        venue_id=uuid.uuid4(),
        region_code="440783",
        name="甲",
        address=None,
        category="other",
        poster_version=poster,
        printed_version=printed,
        registered_at=None,
        last_checkin_at=last,
    )


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        (None, ""),
        ("440000", "44"),
        ("440700", "4407"),
        ("440783", "440783"),
        ("441900", "4419"),
        ("110100", "1101"),
    ],
)
def test_region_prefix_by_level(code: str | None, prefix: str) -> None:
    assert region_prefix(code) == prefix


def test_unknown_region_is_refused() -> None:
    with pytest.raises(InvalidValue) as raised:
        region_prefix("990000")
    assert raised.value.errors[0]["field"] == "region"


def test_cursor_round_trip_and_garbage() -> None:
    venue = uuid.uuid4()
    assert parse_cursor(f"440783.{venue}") == ("440783", venue)
    assert parse_cursor(None) is None
    for bad in ("440783", "440783.not-a-uuid", ""):
        with pytest.raises(InvalidValue):
            parse_cursor(bad)


def test_reasons() -> None:
    since = NOW - timedelta(days=7)
    assert reasons_of(row(None), since) == ("never_scanned",)
    assert reasons_of(row(since - timedelta(seconds=1)), since) == ("no_recent_scan",)
    assert reasons_of(row(since), since) == ()  # a scan exactly N days ago still counts
    assert reasons_of(row(NOW, printed=0), since) == ("poster_not_printed",)
    assert reasons_of(row(None, printed=1, poster=2), since) == ("never_scanned", "poster_not_printed")


class NoStore:
    """The bounds are checked before the store is asked."""

    @property
    def compliance(self) -> object:
        raise AssertionError("the store was asked")


@pytest.mark.parametrize(
    ("days", "limit", "field"),
    [(0, 50, "days"), (DAYS_MAX + 1, 50, "days"), (7, 0, "limit"), (7, PAGE_MAX + 1, "limit")],
)
async def test_bounds_are_checked_first(days: int, limit: int, field: str) -> None:
    service = ComplianceService(NoStore(), lambda: NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue) as raised:
        await service.lagging(None, days, None, limit)
    assert raised.value.errors[0]["field"] == field

"""shared.ids.uuid7: RFC 9562 version 7, the timestamp in front, ordered by time."""

from __future__ import annotations

import time
import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared.ids import uuid7


@given(st.integers(0, 2**48 - 1))
def test_version_variant_and_timestamp(ms: int) -> None:
    value = uuid7(ms)
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == ms


@given(st.integers(0, 2**48 - 2), st.integers(1, 10**6))
def test_later_milliseconds_sort_later(ms: int, step: int) -> None:
    later = min(ms + step, 2**48 - 1)
    assert uuid7(ms) < uuid7(later)
    assert str(uuid7(ms)) < str(uuid7(later))


def test_now_is_used_and_ids_differ() -> None:
    before = time.time_ns() // 1_000_000
    ids = [uuid7() for _ in range(1000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 1000
    assert all(before <= i.int >> 80 <= after for i in ids)
    stamps = [i.int >> 80 for i in ids]
    assert stamps == sorted(stamps)

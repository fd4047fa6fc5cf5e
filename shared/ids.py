"""Time-ordered UUIDs (RFC 9562 version 7) for event and record ids."""

from __future__ import annotations

import os
import time
import uuid


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A version-7 UUID: 48 bits of Unix milliseconds, then 74 random bits.

    Time-ordered ids keep B-tree inserts at the right edge of the index.
    """
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)

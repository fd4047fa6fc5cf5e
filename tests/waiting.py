"""The one way a test waits for something that happens elsewhere (an event through Kafka, a job's
round, a restarted server): poll a check until it holds, or fail naming what never happened."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T | None] | T | None],
    *,
    timeout_s: float = 15.0,
    interval_s: float = 0.05,
    what: str = "",
) -> T:
    """Call ``check`` (sync or async) every ``interval_s`` until it returns something truthy, and
    return that; fail after ``timeout_s`` naming ``what`` (default: the check's name)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not within {timeout_s:g} s: {what or getattr(check, '__qualname__', check)}"
            )
        await asyncio.sleep(interval_s)


# Rate limits are fixed windows (shared/ratelimit.py): a test that straddles a window's edge
# would see two windows' worth, and its "the next one is refused" would pass the request.
EDGE_MARGIN_S = 10.0


async def clear_of_window_edge(window_s: int, margin_s: float = EDGE_MARGIN_S) -> None:
    """Return once at least ``margin_s`` remain in the current window of ``window_s`` seconds:
    a test that counts up to a limit starts with this, so all its requests fall in one window."""
    deadline = time.monotonic() + margin_s + 1
    while window_s - time.time() % window_s < margin_s:
        assert time.monotonic() < deadline, "the window edge did not pass"
        await asyncio.sleep(0.2)

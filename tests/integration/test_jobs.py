"""shared.jobs on real Postgres: three replicas of a job never run a round at the same time, and
when the holder dies (its connection dropped, as a SIGKILL drops it) another takes over within
one interval.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import asyncpg

from shared import jobs
from shared.jobs import Job
from tests.waiting import eventually

INTERVAL_S = 0.3
# A round long enough that replicas with the same interval would overlap without the lock.
ROUND_S = 0.2


@dataclass
class Rounds:
    """Every round of every replica: (replica, start, end) on the monotonic clock."""

    done: list[tuple[str, float, float]] = field(default_factory=list)
    hang: asyncio.Event | None = None  # set: the next round to start never ends
    hanging: str | None = None

    def job(self, replica: str) -> Job:
        async def work() -> int:
            start = time.monotonic()
            if self.hang is not None and self.hanging is None:
                self.hanging = replica
                await self.hang.wait()
            await asyncio.sleep(ROUND_S)
            self.done.append((replica, start, time.monotonic()))
            return 1

        return Job("test.rounds", INTERVAL_S, work)


@asynccontextmanager
async def replica(database_url: str, name: str, rounds: Rounds) -> AsyncIterator[asyncpg.Pool]:
    async with (
        asyncpg.create_pool(
            database_url, min_size=1, max_size=2, server_settings={"application_name": f"jobs-{name}"}
        ) as pool,
        jobs.running(pool, [rounds.job(name)]),
    ):
        yield pool


def overlaps(done: list[tuple[str, float, float]]) -> list[tuple[str, str]]:
    ordered = sorted(done, key=lambda r: r[1])
    return [(a[0], b[0]) for a, b in itertools.pairwise(ordered) if b[1] < a[2]]


async def test_three_replicas_never_run_a_round_at_once(database_url: str) -> None:
    rounds = Rounds()
    async with AsyncExitStack() as stack:
        for name in ("a", "b", "c"):
            await stack.enter_async_context(replica(database_url, name, rounds))
        await eventually(lambda: len(rounds.done) >= 8, timeout_s=20)
    assert overlaps(rounds.done) == []
    # Each replica took rounds: the lock is per round, not a leader elected for ever.
    assert {name for name, _, _ in rounds.done} == {"a", "b", "c"}


async def test_a_dead_holder_is_taken_over_within_one_interval(database_url: str) -> None:
    rounds = Rounds(hang=asyncio.Event())
    admin = await asyncpg.connect(database_url)
    try:
        async with AsyncExitStack() as stack:
            pools = {
                name: await stack.enter_async_context(replica(database_url, name, rounds))
                for name in ("a", "b", "c")
            }
            await eventually(lambda: rounds.hanging is not None, timeout_s=10)
            # While the holder is stuck in its round, nobody else runs one.
            await asyncio.sleep(3 * INTERVAL_S)
            assert rounds.done == []

            # The holder dies: Postgres sees its connections drop, as after a SIGKILL.
            holder = f"jobs-{rounds.hanging}"
            killed_at = time.monotonic()
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", holder
            )
            await eventually(lambda: rounds.done, timeout_s=10)
            (taker, started, _), *_ = rounds.done
            assert taker != rounds.hanging
            # Within one interval of the death (plus scheduling slack on a busy machine).
            assert started - killed_at < INTERVAL_S + 0.5
            # A dead process closes nothing: its pool is dropped, not closed.
            assert rounds.hanging is not None
            pools[rounds.hanging].terminate()
    finally:
        await admin.close()

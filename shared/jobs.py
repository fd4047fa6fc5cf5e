"""Periodic jobs that run once per platform, however many replicas run them (STYLE rule 18).

Every replica runs the loop; each round first tries a Postgres advisory lock named for the job
(``pg_try_advisory_lock``, held on one pooled connection for the round). The replica that gets
it does the round; the others skip theirs. Rounds never overlap, and each does what is left
(rows still unsent, colours still expired, a cache still cold), so the work is done once. When
the holder dies its connection closes and Postgres releases the lock: the next replica's round,
at most one interval later, takes over. No lease to renew, no clock to trust.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from prometheus_client import Counter

from shared.metrics import JOB_FAILURES

log = logging.getLogger("venuecode.jobs")
ROUNDS = Counter(
    "venuecode_job_rounds_total", "Rounds of a periodic job, by who ran them", ["job", "outcome"]
)
# A round is cancelled at shutdown; one that does not end within this is left behind, named
# in the log, so that a stuck round never holds up a pod's exit.
STOP_WAIT_S = 10.0
LOST_CONNECTION = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)
WORK = Counter(
    "venuecode_job_work_total", "What the rounds of a periodic job did (rows, events, keys)", ["job"]
)


@dataclass(frozen=True)
class Job:
    """``work`` runs every ``interval_s`` (the first time after ``first_s``) on one replica at a time.

    ``work`` returns how much it did (an int: rows swept, events relayed, keys refilled) or
    anything else (counted as nothing).
    """

    name: str
    interval_s: float
    work: Callable[[], Awaitable[object]]
    first_s: float = 0.0


def lock_key(name: str) -> int:
    """The job's advisory-lock key: a stable signed 64-bit number from its name."""
    digest = hashlib.sha256(f"venuecode.job.{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def run_round(pool: asyncpg.Pool, job: Job, *, wait: bool = False) -> tuple[bool, object]:
    """One round under the job's lock: ``(True, result)``, or ``(False, None)`` when another
    replica holds it. ``wait``: queue for the lock instead (a start-up round that must have run,
    such as tracing's partitions, before this replica goes on)."""
    key = lock_key(job.name)
    async with pool.acquire() as conn:
        if wait:
            await conn.execute("SELECT pg_advisory_lock($1)", key)
        elif not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
            ROUNDS.labels(job.name, "skipped").inc()
            return False, None
        try:
            result = await job.work()
        finally:
            # A lost connection has released the lock with its session; its error must not
            # mask the round's own (or a cancellation).
            with contextlib.suppress(*LOST_CONNECTION):
                await conn.execute("SELECT pg_advisory_unlock($1)", key)
    ROUNDS.labels(job.name, "ran").inc()
    if isinstance(result, int) and not isinstance(result, bool):
        WORK.labels(job.name).inc(result)
    return True, result


async def every(pool: asyncpg.Pool, job: Job) -> None:
    """Run the job's rounds until cancelled; a failed round is logged and the next one retries."""
    task = asyncio.current_task()
    await asyncio.sleep(job.first_s)
    while True:
        try:
            await run_round(pool, job)
        except Exception as exc:  # a database or broker briefly away: the loop must outlive it
            if task is not None and task.cancelling():
                raise  # the error came from a round that was being cancelled: stop
            ROUNDS.labels(job.name, "failed").inc()
            _failures(job).inc()
            log.warning("periodic job failed", extra={"job": job.name, "error_type": type(exc).__name__})
        await asyncio.sleep(job.interval_s)


def _failures(job: Job) -> Counter:
    """The job's ``venuecode_job_failures_total`` child: names are ``<service>.<job>``
    (``status.sweep``), the labels the alert rules (deploy/observability) select on."""
    service, _, name = job.name.partition(".")
    return JOB_FAILURES.labels(service, name or service)


@asynccontextmanager
async def running(pool: asyncpg.Pool, jobs: Sequence[Job]) -> AsyncIterator[None]:
    """Run the jobs' loops for as long as the block runs (a lifespan's), then stop them."""
    for job in jobs:
        _failures(job)  # at 0 from the start, so that the first failure counts in increase()
    tasks = [asyncio.create_task(every(pool, job), name=f"job {job.name}") for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=STOP_WAIT_S)
            for task in stuck:
                log.warning("periodic job did not stop", extra={"job": task.get_name()})

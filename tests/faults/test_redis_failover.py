"""A Redis Cluster master killed under steady scans: its replica is promoted, and meanwhile
every scan answers 201 (colour green, or ``unknown`` while its slots have no master) or 503,
never 500; every acknowledged check-in is stored exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.redis_cluster import RedisClusterNodes
from shared.cache import create_redis
from shared.colours import mark_warm
from shared.settings import InfraSettings
from tests.faults.kit import (
    CONCURRENCY,
    Tally,
    assert_exactly_once,
    checkin_app,
    drained,
    make_world,
    plan,
    private_infra,
    running,
    scan,
    seed,
    tracing_app,
)
from tests.faults.servers import PrivateBroker
from tests.waiting import eventually

pytestmark = pytest.mark.faults

# 20 scans each (under the cap of 30 in 10 minutes) planned: enough that the failover's gap, whose
# scans answer fast once they degrade, never uses them all before the promoted replica is tried
# (60 people ran dry in the gap once the scan got cheaper: no scan was left for the last phase).
PEOPLE = 250
# Scans answered after the promoted replica serves its slots, before the scans stop.
SCANS_AFTER = 30


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[RedisClusterNodes]:
    if not RedisClusterNodes.available():
        pytest.skip("needs redis-server and redis-cli")
    nodes = RedisClusterNodes(tmp_path / "cluster")
    await asyncio.to_thread(nodes.start)
    try:
        yield nodes
    finally:
        await asyncio.to_thread(nodes.stop)


async def test_a_killed_master_is_replaced_and_no_scan_fails(
    infra: InfraSettings, broker: PrivateBroker, cluster: RedisClusterNodes
) -> None:
    private = private_infra(infra, kafka=broker.bootstrap, redis=cluster.url).model_copy(
        update={"redis_cluster": True}
    )
    assert private.postgres_url is not None
    world = make_world(private, people=PEOPLE, venues=3)
    redis = create_redis(private.redis)
    try:
        await mark_warm(redis, private.redis.key_prefix)  # as status does after its refill
    finally:
        await redis.aclose()
    started = time.monotonic()
    async with running(checkin_app(private), tracing_app(private)) as client:
        await seed(world, client)
        # before the kill, from the kill until the cluster is whole again, after that
        phases = [Tally(), Tally(), Tally()]
        phase = 0
        queue = list(reversed(plan(world, PEOPLE * 20, "steady")))

        async def worker() -> None:
            while queue and phase < len(phases):
                person, venue, key = queue.pop()
                started_in = phase
                answer = await scan(client, world, person, venue, key)
                # A scan that overlapped the kill or the failover belongs to the gap.
                phases[started_in if started_in == phase else 1].note(answer)

        async def answered(tally: Tally, count: int) -> bool:
            return sum(tally.statuses.values()) >= count

        async def kill_a_master() -> None:
            nonlocal phase
            await eventually(lambda: answered(phases[0], 50), timeout_s=60, what="50 scans before the kill")
            victim = (await asyncio.to_thread(cluster.masters))[0]
            await asyncio.to_thread(cluster.kill, victim)
            killed_at = time.monotonic()
            phase = 1
            masters = await asyncio.to_thread(cluster.wait_promoted)
            phase = 2
            took = time.monotonic() - killed_at
            print(f"\n[faults] master {victim} killed; its replica took over in {took:.1f} s")
            assert victim not in masters
            assert queue, "every planned scan was used before the promotion: plan more"
            await eventually(
                lambda: answered(phases[2], SCANS_AFTER), timeout_s=60, what="scans on the promoted master"
            )
            phase = 3

        await asyncio.gather(kill_a_master(), *(worker() for _ in range(CONCURRENCY)))
        before, gap, after = phases
        print(
            f"[faults] answers before the kill: {dict(before.statuses)} {dict(before.colours)};"
            f" in the gap: {dict(gap.statuses)} {dict(gap.colours)};"
            f" after: {dict(after.statuses)} {dict(after.colours)}"
        )
        assert set(before.statuses) == {201}, before.statuses
        assert set(before.colours) == {"green"}, before.colours
        assert set(gap.statuses) <= {201, 503}, gap.statuses
        assert set(gap.colours) <= {"green", "unknown"}, gap.colours
        assert set(after.statuses) == {201}, after.statuses
        everything = before.acknowledged | gap.acknowledged | after.acknowledged
        found = await drained(private.postgres_url, everything)
        assert_exactly_once("Redis Cluster master killed under steady scans", everything, found)
        print(f"[faults] took {time.monotonic() - started:.1f} s")

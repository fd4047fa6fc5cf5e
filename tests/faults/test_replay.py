"""The check-ins topic replayed from offset 0 (the group's offsets reset), and every record sent
again (a producer's retry): tracing reads it all once more and doubles nothing.
"""

from __future__ import annotations

import time

import pytest

from shared.events import CHECKINS_TOPIC, topic
from shared.kafka import group_id
from shared.settings import InfraSettings
from tests.faults.kit import (
    Tally,
    assert_exactly_once,
    checkin_app,
    drained,
    duplicates_seen,
    make_world,
    plan,
    private_infra,
    running,
    scan_all,
    seed,
    stored,
    tracing_app,
)
from tests.faults.servers import PrivateBroker, PrivateRedis
from tests.faults.topics import offsets, republish, rewind
from tests.waiting import eventually

pytestmark = pytest.mark.faults

SCANS = 200


async def test_replay_from_offset_zero_doubles_nothing(
    infra: InfraSettings, broker: PrivateBroker, redis_server: PrivateRedis
) -> None:
    private = private_infra(infra, kafka=broker.bootstrap, redis=redis_server.url)
    assert private.postgres_url is not None
    world = make_world(private, people=10, venues=4)
    name = topic(CHECKINS_TOPIC, private.kafka.namespace)
    group = group_id(private.kafka, "tracing")
    started = time.monotonic()

    async def caught_up() -> bool:
        # At least: tansu's end offsets can lag the records it holds (seen: 275 of 300 on a partition).
        committed, ends = await offsets(broker.bootstrap, group, name)
        return all(committed[p] >= end for p, end in ends.items())

    async with running(checkin_app(private)) as client:
        await seed(world, client)
        tally = Tally()
        async with running(tracing_app(private)):
            await scan_all(client, world, plan(world, SCANS, "replay"), tally)
            assert set(tally.statuses) == {201}, tally.statuses
            await drained(private.postgres_url, tally.acknowledged)
            await eventually(caught_up, timeout_s=60, what="tracing committed the whole topic")

        await rewind(broker.bootstrap, group, name)
        committed, ends = await offsets(broker.bootstrap, group, name)
        assert set(committed.values()) == {0}, committed
        print(f"\n[faults] rewound {group} to offset 0 on {len(ends)} partitions")
        before = duplicates_seen()
        async with running(tracing_app(private)):

            async def reread(count: int) -> bool:
                return duplicates_seen() - before >= count

            # Every record read again is counted a duplicate by tracing: that proves the replay.
            await eventually(
                lambda: reread(SCANS), timeout_s=60, what="tracing re-read the topic from offset 0"
            )
            sent_again = await republish(broker.bootstrap, name)
            await eventually(
                lambda: reread(SCANS + sent_again), timeout_s=60, what="tracing read the records sent again"
            )
            await eventually(caught_up, timeout_s=60, what="tracing committed the whole topic again")
        print(f"[faults] re-read {SCANS} from offset 0, then {sent_again} records sent again")
        found = await stored(private.postgres_url)
        assert_exactly_once("topic replayed from offset 0", tally.acknowledged, found)
        print(f"[faults] took {time.monotonic() - started:.1f} s")

"""Many tracing consumers at once: members joining and leaving one group while scans flow, and a
second group reading the same events into the same store. The key (venue_id, checked_in_at,
checkin_id) keeps every check-in once, whoever writes it and however often.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.tracing.wire import decode_row
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
    send,
    stored,
    tracing_app,
)
from tests.faults.process import TracingProcess
from tests.faults.servers import PrivateBroker, PrivateRedis
from tests.integration.tracing.timeline import checkin
from tests.waiting import eventually

pytestmark = pytest.mark.faults

# Scans go out in rounds of this many, one every PACE_S, until both rebalances are over: about
# 100 a second, so that they keep flowing through the ~20 s that a member needs to start and
# the group needs to rebalance twice on tansu.
ROUND = 40
PACE_S = 0.4
# Small batches, so that each member writes many while partitions move.
BATCH = "100"
REPLAYED = 10_000
_PARTITION = re.compile(r"TopicPartition\(topic='[^']*', partition=(\d+)\)")
_CONSUMED = re.compile(
    r'venuecode_events_consumed_total\{[^}]*outcome="(stored|duplicate)"[^}]*topic="[^"]*checkins[^"]*"[^}]*\}'
    r" ([0-9.e+]+)"
)


async def consumed(member: TracingProcess) -> dict[str, int]:
    """Check-ins this member stored, and those it found stored already (its /metrics)."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"http://127.0.0.1:{member.port}/api/tracing/metrics")).text
    counts = {"stored": 0, "duplicate": 0}
    for outcome, n in _CONSUMED.findall(text):
        counts[outcome] += int(float(n))
    return counts


async def whereabouts(infra: InfraSettings, missing: set[uuid.UUID]) -> str:
    """Where the missing check-ins sit in the topic against the tracing group's committed offsets:
    below a committed offset means skipped, at or above means not yet read."""
    name = topic(CHECKINS_TOPIC, infra.kafka.namespace)
    # Joins no group: it reads every partition from the start and asks the coordinator for the
    # group's offsets (tansu answers aiokafka's admin OffsetFetch in a version it cannot read).
    reader = AIOKafkaConsumer(
        bootstrap_servers=infra.kafka_bootstrap,
        group_id=group_id(infra.kafka, "tracing"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:
        await reader.topics()  # fetches the metadata that partitions_for_topic reads
        parts = [TopicPartition(name, p) for p in sorted(reader.partitions_for_topic(name) or ())]
        committed = {tp: await reader.committed(tp) for tp in parts}
        reader.assign(parts)
        await reader.seek_to_beginning(*parts)
        found: list[str] = []
        while True:
            batch = await reader.getmany(timeout_ms=2000)
            if not batch:
                break
            for tp, records in batch.items():
                found += [
                    f"p{tp.partition}@{r.offset}"
                    for r in records
                    if getattr(decode_row(r.value or b""), "checkin_id", None) in missing
                ]
    finally:
        await reader.stop()
    return f"committed {[committed[tp] for tp in parts]}; missing at {found}"


def story(member: TracingProcess) -> str:
    """A member's log without its per-message lines: assignments, rebalances, warnings, and
    FastStream's "callback for Task-N" where a subscriber ended."""
    kept = [line for line in member.log_lines() if " - Received" not in line and " - Processed" not in line]
    return "\n".join(_PARTITION.sub(r"p\1", line)[:240] for line in kept)


async def test_two_rebalances_while_scans_flow_store_each_check_in_once(
    infra: InfraSettings, broker: PrivateBroker, redis_server: PrivateRedis, tmp_path: Path
) -> None:
    private = private_infra(infra, kafka=broker.bootstrap, redis=redis_server.url)
    url = private.postgres_url
    assert url is not None
    world = make_world(private, people=120, venues=12)
    members = [
        TracingProcess(private, tmp_path / f"tracing-{n}.log", batch_max_records=BATCH) for n in (1, 2, 3)
    ]
    first, second, third = members
    started = time.monotonic()
    try:
        async with running(checkin_app(private)) as client:
            await seed(world, client)
            first.start()
            second.start()
            await asyncio.gather(first.ready(), second.ready())

            tally = Tally()
            rebalanced = asyncio.Event()
            scans = plan(world, 120 * 20, "rebalance")

            async def keep_scanning() -> int:
                rounds = 0
                while rounds * ROUND < len(scans) and not rebalanced.is_set():
                    await scan_all(client, world, scans[rounds * ROUND : (rounds + 1) * ROUND], tally)
                    rounds += 1
                    with contextlib.suppress(TimeoutError):  # pacing the crowd, not waiting for a result
                        await asyncio.wait_for(rebalanced.wait(), PACE_S)
                return min(rounds * ROUND, len(scans))

            scanning = asyncio.create_task(keep_scanning())

            async def stored_at_least(count: int) -> bool:
                return len(await stored(url)) >= count

            await eventually(
                lambda: stored_at_least(ROUND), timeout_s=60, what="two members stored a first round"
            )
            third.start()  # rebalance 1: a third member joins
            await third.ready()
            at_join = len(await stored(url))
            await eventually(
                lambda: stored_at_least(at_join + ROUND), timeout_s=60, what="three members stored a round"
            )
            by_first = await consumed(first)
            first.stop()  # rebalance 2: a member leaves mid-stream
            at_leave = len(await stored(url))
            await eventually(
                lambda: stored_at_least(at_leave + ROUND), timeout_s=60, what="two members stored a round"
            )
            rebalanced.set()
            sent = await asyncio.wait_for(scanning, 120)

            assert set(tally.statuses) == {201}, tally.statuses
            try:
                found = await drained(url, tally.acknowledged)
            except AssertionError:  # what each member did, and where the missing ones are
                missing = tally.acknowledged - (await stored(url)).keys()
                print(f"[faults] {await whereabouts(private, missing)}")
                for n, member in enumerate(members, 1):
                    print(f"[faults] member {n}:\n{story(member)}")
                raise
            by_member = [by_first, await consumed(second), await consumed(third)]
            print(
                f"\n[faults] rebalances: scans={sent} acknowledged={len(tally.acknowledged)}"
                f" stored at join={at_join}, at leave={at_leave}, rows={sum(found.values())};"
                f" per member (first until it left)={by_member}"
            )
            assert at_join < at_leave < len(tally.acknowledged), "the rebalances came after the scans"
            assert all(m["stored"] > 0 for m in by_member), "a member never got a partition"
            assert_exactly_once("two rebalances", tally.acknowledged, found)
            print(f"[faults] took {time.monotonic() - started:.1f} s")
    finally:
        for member in members:
            member.stop()


def assigned_checkins(member: TracingProcess) -> int:
    """How many times the member's check-in consumer has been given partitions (its log)."""
    return sum(
        1
        for line in member.log_lines()
        if "checkins" in line.split("|")[0] and "assigned to partitions" in line
    )


async def test_a_member_whose_batch_was_being_written_when_a_rebalance_took_its_partition_goes_on(
    infra: InfraSettings, broker: PrivateBroker, redis_server: PrivateRedis, tmp_path: Path
) -> None:
    """The rebalance lands while a batch's INSERT waits (a lock held here): the batch is stored
    after its partition moved, and its member must go on storing what it is given next."""
    private = private_infra(infra, kafka=broker.bootstrap, redis=redis_server.url)
    url = private.postgres_url
    assert url is not None
    world = make_world(private, people=60, venues=12)
    first = TracingProcess(private, tmp_path / "tracing-1.log", batch_max_records=BATCH)
    second = TracingProcess(private, tmp_path / "tracing-2.log", batch_max_records=BATCH)
    tally = Tally()
    try:
        async with running(checkin_app(private)) as client:
            await seed(world, client)
            first.start()
            await first.ready()
            await scan_all(client, world, plan(world, ROUND, "before"), tally)
            await drained(url, tally.acknowledged)

            holder = await asyncpg.connect(url)
            held = holder.transaction()
            await held.start()
            try:
                # Reads go on; every INSERT into the check-ins of today (and of tomorrow, should
                # midnight pass meanwhile) waits until the rollback. The day partitions, not the
                # parent table: a starting member's upkeep locks that and would wait too.
                now = datetime.now(UTC)
                days = [f"tracing.checkins_p{day:%Y%m%d}" for day in (now, now + timedelta(days=1))]
                await holder.execute(f"LOCK TABLE {', '.join(days)} IN SHARE MODE")
                await scan_all(client, world, plan(world, ROUND, "during"), tally)

                async def writing() -> bool:
                    return bool(
                        await holder.fetchval(
                            "SELECT count(*) FROM pg_locks"
                            " WHERE NOT granted AND relation = ANY($1::regclass[])",
                            days,
                        )
                    )

                await eventually(writing, timeout_s=60, what="the first member's INSERT waits")
                second.start()  # the group rebalances: some of the first member's partitions move
                await second.ready()
                await eventually(
                    lambda: assigned_checkins(first) >= 2 and assigned_checkins(second) >= 1,
                    timeout_s=60,
                    what="the rebalance gave the second member partitions",
                )
            finally:
                await held.rollback()
                await holder.close()

            # The waiting batch is stored now; its moved partitions' offsets cannot be committed
            # by its member. What comes next must be stored, whoever holds its partition.
            await scan_all(client, world, plan(world, 3 * ROUND, "after"), tally)
            found = await drained(url, tally.acknowledged)
            by_member = [await consumed(first), await consumed(second)]
            print(f"\n[faults] rebalance mid-write: per member={by_member}")
            assert set(tally.statuses) == {201}, tally.statuses
            assert all(m["stored"] > 0 for m in by_member), "a member stored nothing"
            assert_exactly_once("rebalance mid-write", tally.acknowledged, found)
            # Both still consume (a member whose subscriber ended answers 503 naming the topic).
            async with httpx.AsyncClient(timeout=5) as http:
                for member in (first, second):
                    ready = await http.get(f"http://127.0.0.1:{member.port}/api/tracing/readyz")
                    assert ready.json()["checks"]["consumers"] is True, ready.text
    finally:
        first.stop()
        second.stop()


async def test_a_second_group_replaying_the_same_events_adds_no_row(
    infra: InfraSettings, broker: PrivateBroker, redis_server: PrivateRedis
) -> None:
    private = private_infra(infra, kafka=broker.bootstrap, redis=redis_server.url)
    url = private.postgres_url
    assert url is not None
    name = topic(CHECKINS_TOPIC, private.kafka.namespace)
    t0 = datetime.now(UTC) - timedelta(hours=6)
    venues = [uuid.uuid4() for _ in range(8)]
    events = [checkin(uuid.uuid4(), venues[n % 8], t0 + timedelta(seconds=n)) for n in range(REPLAYED)]
    ids = {e.data.checkin_id for e in events}
    started = time.monotonic()

    async with running(tracing_app(private)):
        for n, where in enumerate(venues):
            await send(broker.bootstrap, name, events[n::8], key=where.bytes)
        first = await drained(url, ids)
    assert_exactly_once("first group", ids, first)

    before = duplicates_seen()
    async with running(tracing_app(private, checkins_group="replay")):

        async def all_refused() -> bool:
            return duplicates_seen() - before >= REPLAYED

        await eventually(all_refused, timeout_s=60, what="the second group read every event")
        again = await stored(url)
    refused_now = duplicates_seen() - before
    print(
        f"\n[faults] second group: events={REPLAYED} rows before={sum(first.values())}"
        f" rows after={sum(again.values())} duplicates refused={refused_now:.0f}"
        f" took {time.monotonic() - started:.1f} s"
    )
    assert again == first
    assert refused_now == REPLAYED

"""The broker stopped: check-ins answer 503 with Retry-After and nothing is recorded; the broker
back, the retried requests with the same Idempotency-Key are recorded once.

tansu keeps everything in memory, so the restarted broker is empty: the test re-creates the
topics (a durable broker keeps them) and reads them with a fresh tracing consumer from offset 0
(a consumer that lived through the restart keeps positions past the new, empty logs).
A long outage outlasts the producer's delivery timeout, so what checkin answered 503 is never
delivered; after a short one the producer delivers it late, and the retry (same checkin_id and
time) must still make one record.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.events import CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_COMMANDS_TOPIC, dlq, topic
from shared.kafka import ensure_topics
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
    scan,
    scan_all,
    seed,
    stored,
    tracing_app,
)
from tests.faults.servers import PrivateBroker, PrivateRedis
from tests.faults.topics import read_all
from tests.waiting import eventually

pytestmark = pytest.mark.faults

BEFORE = 40
DURING = 12
# A phone retries a 503 for at most this long before the test gives up.
RETRY_DEADLINE_S = 60.0
# aiokafka drops a batch it could not deliver request_timeout_ms (15 s, shared.settings) after
# it was queued; 3 s more so that no scan answered 503 is still waiting in a producer.
OUTAGE_S = 15.0 + 3.0
TOPICS = [CHECKINS_TOPIC, REGISTRY_TOPIC, STATUS_COMMANDS_TOPIC, dlq(CHECKINS_TOPIC), dlq(REGISTRY_TOPIC)]


@pytest.mark.parametrize("outage_s", [OUTAGE_S, 0.0], ids=["past-producer-timeout", "short"])
async def test_broker_down_answers_503_and_retries_are_recorded_once(
    infra: InfraSettings, broker: PrivateBroker, redis_server: PrivateRedis, outage_s: float
) -> None:
    private = private_infra(infra, kafka=broker.bootstrap, redis=redis_server.url)
    assert private.postgres_url is not None
    world = make_world(private, people=10, venues=4)
    started = time.monotonic()
    async with running(checkin_app(private)) as client:
        await seed(world, client)
        tally = Tally()
        async with running(tracing_app(private)):
            await scan_all(client, world, plan(world, BEFORE, "before"), tally)
            assert set(tally.statuses) == {201}, tally.statuses
            await drained(private.postgres_url, tally.acknowledged)

        await broker.astop()
        down_at = time.monotonic()
        outage = plan(world, BEFORE + DURING, "outage")[BEFORE:]
        answers = await asyncio.gather(*(scan(client, world, p, v, k) for p, v, k in outage))
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert int(answer.headers["Retry-After"]) >= 1
        retry_after = max(int(a.headers["Retry-After"]) for a in answers)
        assert len(await stored(private.postgres_url)) == BEFORE, "recorded while the broker was down"
        print(f"\n[faults] broker down: {DURING} scans answered 503, Retry-After {retry_after} s")
        # The outage itself: there is nothing to poll for while the broker is away.
        await asyncio.sleep(max(0.0, outage_s - (time.monotonic() - down_at)))

        await broker.astart()
        await ensure_topics(private.kafka, TOPICS)
        pending = list(outage)
        deadline = time.monotonic() + RETRY_DEADLINE_S
        while pending and time.monotonic() < deadline:
            for item in list(pending):
                answer = await scan(client, world, *item)
                if answer.status_code == 201:
                    tally.note(answer)
                    pending.remove(item)
                else:
                    assert answer.status_code == 503, answer.text
            if pending:
                await asyncio.sleep(retry_after)
        assert not pending, f"{len(pending)} retries never acknowledged"
        print(f"[faults] broker back: {DURING} retries answered 201 at {time.monotonic() - started:.1f} s")

        records = await read_all(broker.bootstrap, topic(CHECKINS_TOPIC, private.kafka.namespace))
        late = len(records) - DURING
        print(f"[faults] broker back: the topic holds {len(records)} records ({late} delivered late)")
        url = private.postgres_url
        before = duplicates_seen()
        async with running(tracing_app(private)):
            await drained(url, tally.acknowledged)

            async def all_read() -> bool:
                # Tracing read every record: each was stored or counted a duplicate.
                rows: int = sum((await stored(url)).values())
                return rows - BEFORE + duplicates_seen() - before >= len(records)

            await eventually(all_read, timeout_s=60, what="tracing read every record on the restarted broker")
            found = await stored(url)
        assert_exactly_once(f"broker stopped for {outage_s:.0f}+ s and restarted", tally.acknowledged, found)
        print(f"[faults] took {time.monotonic() - started:.1f} s")

"""Expiry by a controllable clock, and the colour cache refilling itself after a flush."""

from __future__ import annotations

from datetime import timedelta

from shared.colours import WARM_MARKER, colour_key, read_colours
from tests.integration.status.conftest import StatusHarness
from tests.waiting import eventually


async def test_expired_colour_reads_green_and_the_sweep_records_it(harness: StatusHarness) -> None:
    person = await harness.register()
    until = harness.clock.now() + timedelta(hours=1)
    answer = await harness.put_status(
        person.person_id, colour="yellow", reason="risk_area_visit", valid_until=until.isoformat()
    )
    assert answer.status_code == 200
    headers = harness.auth(person.person_id)
    code = await harness.client.get("/api/status/v1/health-code", headers=headers)
    assert code.json()["colour"] == "yellow"

    harness.clock.advance(timedelta(hours=1, seconds=1))
    # Before any sweep, reads already show green.
    code = await harness.client.get("/api/status/v1/health-code", headers=headers)
    assert (code.json()["colour"], code.json()["reason"]) == ("green", "none")

    status = harness.app.state.services.status
    assert await status.sweep_expired() == 1
    assert await status.sweep_expired() == 0  # recorded once
    history = await harness.app.state.services.store.history(person.person_id)
    assert [(h.colour, h.source) for h in history] == [("yellow", "authority"), ("green", "expiry")]
    events = await harness.status_changes(person.person_id, 2)
    assert [(e.data.colour, e.data.version) for e in events] == [("yellow", 1), ("green", 2)]
    runtime = harness.app.state.services.runtime
    cached = await read_colours(runtime.redis, runtime.redis_prefix, [person.person_id])
    assert (cached[person.person_id].colour, cached[person.person_id].version) == ("green", 2)


async def test_sweep_leaves_unexpired_and_changed_statuses(harness: StatusHarness) -> None:
    person = await harness.register()
    soon = harness.clock.now() + timedelta(minutes=10)
    later = harness.clock.now() + timedelta(days=7)
    await harness.put_status(
        person.person_id, colour="yellow", reason="close_contact", valid_until=soon.isoformat()
    )
    await harness.put_status(
        person.person_id, colour="red", reason="confirmed_case", valid_until=later.isoformat()
    )
    harness.clock.advance(timedelta(hours=1))
    assert await harness.app.state.services.status.sweep_expired() == 0
    code = await harness.client.get("/api/status/v1/health-code", headers=harness.auth(person.person_id))
    assert code.json()["colour"] == "red"


async def test_flushed_cache_refills_and_red_reads_red(harness: StatusHarness) -> None:
    red = await harness.register()
    green = await harness.register("李四")
    await harness.put_status(red.person_id, colour="red", reason="confirmed_case")
    runtime = harness.app.state.services.runtime
    redis, prefix = runtime.redis, runtime.redis_prefix
    await eventually(lambda: redis.exists(f"{prefix}{WARM_MARKER}"))

    # Flush only this test's keys: the marker and every colour entry.
    keys = [k async for k in redis.scan_iter(match=f"{prefix}colour:*")]
    assert keys
    await redis.delete(*keys)
    cold = await read_colours(redis, prefix, [red.person_id, green.person_id])
    assert cold[red.person_id].colour == "unknown"

    await eventually(lambda: redis.exists(f"{prefix}{WARM_MARKER}"))
    assert await redis.exists(colour_key(prefix, red.person_id))
    warm = await read_colours(redis, prefix, [red.person_id, green.person_id])
    assert warm[red.person_id].colour == "red"
    assert warm[green.person_id].colour == "green"


async def test_refill_works_in_chunks(harness: StatusHarness) -> None:
    people = [await harness.register(f"王{i}明") for i in range(5)]
    for person in people:
        await harness.put_status(person.person_id, colour="yellow", reason="close_contact")
    status = harness.app.state.services.status
    status._refill_chunk = 2  # five entries: three rounds, the last one short
    runtime = harness.app.state.services.runtime
    keys = [k async for k in runtime.redis.scan_iter(match=f"{runtime.redis_prefix}colour:*")]
    await runtime.redis.delete(*keys)
    assert await status.refill_cache() == 5
    cached = await read_colours(runtime.redis, runtime.redis_prefix, [p.person_id for p in people])
    assert {c.colour for c in cached.values()} == {"yellow"}

"""The checkin cache on the real Redis: the daily cap, and a claimed key that a failed winner frees."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from redis.asyncio import RedisCluster

from services.checkin.cache import CHECKIN_CAPS, VISIT_PAGE, WAIT_FOR_WINNER_S, CheckinCache
from services.checkin.models import ScanResult, Venue, result_to_json
from shared.cache import RedisClient
from shared.colours import CachedColour, mark_warm, read_colours, write_colours
from shared.errors import RateLimited
from shared.settings import InfraSettings

DAY_START = 1_800_000_000 - 1_800_000_000 % 86_400  # a UTC midnight, so all hits share one day window


async def test_300_checkins_a_day_then_429_even_when_spread_out(
    redis: RedisClient, infra: InfraSettings
) -> None:
    cache = CheckinCache(redis, infra.redis.key_prefix)
    person = uuid.uuid4()
    scans = iter(range(1000))

    async def count_checkins(people: list[uuid.UUID], now: float) -> None:
        """A won claim with these people counts them; raise what it refused."""
        claim = await cache.claim(person, f"scan-{next(scans)}", people, now=now)
        assert claim.owned
        if claim.refused is not None:
            raise claim.refused

    short, day = CHECKIN_CAPS
    assert (short.limit, short.seconds, day.limit, day.seconds) == (30, 600, 300, 86_400)
    # 30 in each of ten 10-minute windows: never over the short cap, exactly the daily one.
    for window in range(10):
        for _ in range(30):
            await count_checkins([person], now=DAY_START + window * 600 + 1)
    with pytest.raises(RateLimited) as refused:
        await count_checkins([person], now=DAY_START + 10 * 600 + 1)
    assert refused.value.retry_after_s > 600  # the day window, not the 10-minute one
    await count_checkins([uuid.uuid4()], now=DAY_START + 10 * 600 + 1)


async def test_a_released_claim_lets_the_retry_proceed_and_a_kept_answer_replays(
    redis: RedisClient, infra: InfraSettings
) -> None:
    cache = CheckinCache(redis, infra.redis.key_prefix)
    caller, key = uuid.uuid4(), "retry-me"
    first = await cache.claim(caller, key)
    assert first.owned
    await cache.release(caller, key, first.marker)
    second = await cache.claim(caller, key)
    assert second.owned
    # Only the owner's marker is released: a stale marker changes nothing.
    await cache.release(caller, key, first.marker)
    held = await redis.get(cache._idem(caller, key))
    assert isinstance(held, bytes)
    assert held.startswith(b"pending:")
    result = ScanResult(Venue(uuid.uuid4(), "Tea house", 1, None), ())
    await cache.enter(uuid.uuid4(), {caller: 1.0}, (caller, key, result))
    replay = await cache.claim(caller, key)
    assert (replay.owned, replay.answer) == (False, result_to_json(result))


async def test_an_unsure_attempt_hands_its_time_to_the_retry(
    redis: RedisClient, infra: InfraSettings
) -> None:
    cache = CheckinCache(redis, infra.redis.key_prefix)
    caller = uuid.uuid4()
    first = await cache.claim(caller, "timed-out")
    assert first.first_at is None
    await cache.release(caller, "timed-out", first.marker, attempted_at=1_795_000_000.25)
    retry = await cache.claim(caller, "timed-out")
    assert (retry.owned, retry.first_at) == (True, 1_795_000_000.25)
    # A sure failure (a rule said no before publishing) leaves no time behind.
    other = await cache.claim(caller, "refused")
    await cache.release(caller, "refused", other.marker)
    assert (await cache.claim(caller, "refused")).first_at is None


async def test_a_won_claim_brings_the_colours_read_colours_would(
    redis: RedisClient, infra: InfraSettings
) -> None:
    prefix = infra.redis.key_prefix
    cache = CheckinCache(redis, prefix)
    caller, red, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await write_colours(redis, prefix, {red: CachedColour("red", "confirmed_case", 3)})
    group = [caller, red, unknown]
    # Cold cache: a person without a key is unknown, exactly as read_colours says.
    cold = await cache.claim(caller, "cold", group)
    assert cold.colours == await read_colours(redis, prefix, group)
    assert [cold.colours[p].colour for p in group] == ["unknown", "red", "unknown"]
    await mark_warm(redis, prefix)
    warm = await cache.claim(caller, "warm", group)
    assert warm.owned
    assert warm.colours == await read_colours(redis, prefix, group)
    assert [warm.colours[p].colour for p in group] == ["green", "red", "green"]
    # Without people nothing is read, and a claim keeps its old shape.
    assert (await cache.claim(caller, "none")).colours == {}


async def test_a_family_is_counted_in_one_go_and_refused_when_any_member_is_over(
    redis: RedisClient, infra: InfraSettings
) -> None:
    cache = CheckinCache(redis, infra.redis.key_prefix)
    parent, child = uuid.uuid4(), uuid.uuid4()
    scans = iter(range(1000))

    async def count_checkins(people: list[uuid.UUID], now: float) -> None:
        claim = await cache.claim(parent, f"scan-{next(scans)}", people, now=now)
        if claim.refused is not None:
            raise claim.refused

    short, _ = CHECKIN_CAPS
    at = DAY_START + 7 * 86_400 + 1
    for _ in range(short.limit):
        await count_checkins([child], now=at)
    with pytest.raises(RateLimited):
        await count_checkins([parent, child], now=at)
    # The parent was counted with the family (once), and is still far from any cap.
    await count_checkins([parent], now=at)
    counted = await redis.get(
        f"{infra.redis.key_prefix}rl:checkin:{{{parent}}}:{short.seconds}:{at // 600 * 600}"
    )
    assert counted == b"2"


async def test_closing_pages_through_everyone_inside_once_each(
    redis: RedisClient, infra: InfraSettings
) -> None:
    """1,200 people entered over three hours (some twice, some left, some too long ago): closing
    sees exactly those still inside, each once, in pages of about VISIT_PAGE."""
    cache = CheckinCache(redis, infra.redis.key_prefix)
    venue, now = uuid.uuid4(), float(DAY_START + 20 * 3600 + 1800)
    people = [uuid.uuid4() for _ in range(1200)]
    for i, person in enumerate(people):
        await cache.enter(venue, {person: now - 3600 * (i % 3) - 60})
    again = people[:300]  # entered an hour earlier too: in two hourly sets
    await cache.enter(venue, dict.fromkeys(again, now - 7200 + 5))
    await cache.enter(venue, dict.fromkeys(again, now - 30))
    gone = people[300:400]
    await cache.leave(venue, gone)
    stale = uuid.uuid4()  # entered 13 hours ago: no longer inside
    await cache.enter(venue, {stale: now - 13 * 3600})
    elsewhere = uuid.uuid4()
    await cache.enter(uuid.uuid4(), {elsewhere: now - 60})
    seen: list[uuid.UUID] = []
    pages = 0
    async for page in cache.everyone_inside(venue, now):
        pages += 1
        assert len(page) <= 2 * VISIT_PAGE
        seen += page
        await cache.leave(venue, page)  # as closing does, page by page
    assert sorted(seen) == sorted(set(people) - set(gone))
    assert pages >= 3
    assert await cache.inside(venue, people, now) == []


async def test_a_waiting_loser_takes_over_a_released_claim_with_the_colours(
    redis: RedisClient, infra: InfraSettings
) -> None:
    prefix = infra.redis.key_prefix
    cache = CheckinCache(redis, prefix)
    caller, red = uuid.uuid4(), uuid.uuid4()
    await write_colours(redis, prefix, {red: CachedColour("red", "confirmed_case", 3)})
    winner = await cache.claim(caller, "taken-over", [red])
    assert winner.owned
    waiting = asyncio.create_task(cache.claim(caller, "taken-over", [red]))

    # The loser's first round trip counted its caps: from then on it polls the winner's key.
    short = CHECKIN_CAPS[0]
    counter = cache._caps.key(str(red), short, time.time())
    deadline = time.monotonic() + 5
    while await redis.get(counter) != b"2":
        assert time.monotonic() < deadline, "the loser never claimed"
        await asyncio.sleep(0.01)
    assert not waiting.done()
    await cache.release(caller, "taken-over", winner.marker)
    loser = await asyncio.wait_for(waiting, timeout=WAIT_FOR_WINNER_S)
    assert loser.owned
    assert loser.marker != winner.marker
    assert loser.colours[red].colour == "red"


async def test_a_node_that_forgot_the_scripts_is_taught_them_and_counts_each_scan_once(
    redis: RedisClient, infra: InfraSettings
) -> None:
    """The scan's scripts go by SHA1; after a restart, a failover or a flush the node answers
    NOSCRIPT without running them, and the lane sends those again as EVAL."""
    cache = CheckinCache(redis, infra.redis.key_prefix)
    caller, child, venue = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at = DAY_START + 9 * 86_400 + 1
    for attempt in range(2):
        if isinstance(redis, RedisCluster):
            await redis.execute_command("SCRIPT FLUSH", target_nodes=RedisCluster.ALL_NODES)
        else:
            await redis.script_flush()
        claim = await cache.claim(caller, f"forgotten-{attempt}", [caller, child], now=at)
        assert claim.owned
        assert claim.refused is None
        result = ScanResult(Venue(venue, "Cafe", 1, None), ())
        await cache.enter(venue, {caller: at, child: at}, (caller, f"forgotten-{attempt}", result))
        replay = await cache.claim(caller, f"forgotten-{attempt}", [caller, child], now=at)
        assert replay.answer == result_to_json(result)
    short, _ = CHECKIN_CAPS
    for person in (caller, child):  # two claims and two replays each, every one counted once
        counted = await redis.get(
            f"{infra.redis.key_prefix}rl:checkin:{{{person}}}:{short.seconds}:{at // 600 * 600}"
        )
        assert counted == b"4"
    assert await cache.inside(venue, [caller, child], at) == [caller, child]

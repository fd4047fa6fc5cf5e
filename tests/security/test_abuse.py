"""Abuse: login, assisted-lookup and check-in limits hold under a burst of concurrent clients on a
real socket, and every refusal is 429 with Retry-After."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from shared.settings import InfraSettings
from tests.e2e.test_guardian_unlink import open_venue
from tests.e2e.test_story import Person
from tests.people import born_years_ago, mainland_id
from tests.waiting import clear_of_window_edge, eventually

BURST = 50
# The limits under test (services' settings and constants): registry login failures per
# identity a minute, status lookups per caller a minute, checkin scans per person in 10 minutes.
LOGIN_FAILURES = 5
LOOKUPS = 10
CHECKINS = 30


async def burst(origin: str, method: str, path: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """One request from each of many clients, all at once."""

    async def one(body: dict[str, Any]) -> httpx.Response:
        async with httpx.AsyncClient(base_url=origin, timeout=60) as client:
            return await client.request(method, path, **body)

    return list(await asyncio.gather(*(one(b) for b in bodies)))


def refused_properly(answers: list[httpx.Response]) -> None:
    for answer in answers:
        if answer.status_code == 429:
            assert int(answer.headers["retry-after"]) >= 1
            assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_burst_of_wrong_passwords_is_held_to_the_login_limit(origin: str) -> None:
    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        victim = await Person(client, "被猜者", mainland_id(born_years_ago(30))).register()
    body = {"json": {"id_number": victim.id_number, "password": "wrong guess"}}
    await clear_of_window_edge(60)
    answers = await burst(origin, "POST", "/api/registry/v1/sessions", [body] * BURST)
    seen = Counter(a.status_code for a in answers)
    refused_properly(answers)
    assert set(seen) <= {401, 429}, seen
    # At most the allowed number of guesses was judged; everything else was refused unjudged.
    assert seen[401] == LOGIN_FAILURES, seen
    # Even the right password is refused while the window is full.
    right = await burst(
        origin,
        "POST",
        "/api/registry/v1/sessions",
        [{"json": {"id_number": victim.id_number, "password": "correct horse battery"}}],
    )
    assert right[0].status_code == 429


async def test_a_burst_of_assisted_lookups_is_held_to_the_caller_limit(origin: str) -> None:
    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        companion = await Person(client, "陪同者", mainland_id(born_years_ago(30))).register()
    body = {
        "json": {"name": "何老伯", "id_number": mainland_id(born_years_ago(75))},
        "headers": companion.auth,
    }
    await clear_of_window_edge(60)
    answers = await burst(origin, "POST", "/api/status/v1/assisted-lookups", [body] * BURST)
    seen = Counter(a.status_code for a in answers)
    refused_properly(answers)
    assert seen[429] == BURST - LOOKUPS, seen
    assert seen[429] + seen[404] == BURST, seen  # the number is unknown: 404, never a 5xx


async def scanner_at_a_new_venue(client: httpx.AsyncClient, venue: str, name: str) -> tuple[str, Person]:
    """A new venue's token and a new person whose scan page already knows it."""
    token = await open_venue(client, venue)
    person = await Person(client, name, mainland_id(born_years_ago(25))).register()

    async def page_ready() -> bool:
        return (await person.call("GET", f"/c/{token}")).status_code == 200

    await eventually(page_ready, timeout_s=30)
    return token, person


async def test_a_burst_of_check_ins_is_held_to_the_caps(origin: str, module_infra: InfraSettings) -> None:
    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        token, flooder = await scanner_at_a_new_venue(client, "洪流測試館", "刷卡者")
    bodies = [
        {"json": {"venue_token": token}, "headers": {**flooder.auth, "Idempotency-Key": f"flood-{n}"}}
        for n in range(BURST)
    ]
    await clear_of_window_edge(600)
    answers = await burst(origin, "POST", "/api/checkin/v1/scans", bodies)
    seen = Counter(a.status_code for a in answers)
    refused_properly(answers)
    assert seen == {201: CHECKINS, 429: BURST - CHECKINS}, seen


# --- both bounds, one request after another: the last allowed passes, the next is refused ------


async def test_the_fifth_wrong_password_is_judged_and_the_sixth_attempt_refused(origin: str) -> None:
    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        victim = await Person(client, "猜五次", mainland_id(born_years_ago(30))).register()
        wrong = {"id_number": victim.id_number, "password": "wrong guess"}
        right = {"id_number": victim.id_number, "password": "correct horse battery"}
        await clear_of_window_edge(60)
        for _ in range(LOGIN_FAILURES - 1):
            assert (await client.post("/api/registry/v1/sessions", json=wrong)).status_code == 401
        # A success gives its attempt back: it does not use up the last guess.
        assert (await client.post("/api/registry/v1/sessions", json=right)).status_code == 200
        client.cookies.clear()
        fifth = await client.post("/api/registry/v1/sessions", json=wrong)
        assert fifth.status_code == 401, fifth.text
        sixth = await client.post("/api/registry/v1/sessions", json=right)
        assert sixth.status_code == 429, sixth.text
        refused_properly([sixth])


async def test_the_tenth_lookup_is_answered_and_the_eleventh_refused(origin: str) -> None:
    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        companion = await Person(client, "查十次", mainland_id(born_years_ago(30))).register()
        elder = await Person(client, "馬奶奶", mainland_id(born_years_ago(80))).register()
        found = {"name": elder.name, "id_number": elder.id_number}

        async def status_knows_the_elder() -> bool:
            return (await elder.call("GET", "/api/status/v1/health-code")).status_code == 200

        await eventually(status_knows_the_elder, timeout_s=30)
        await clear_of_window_edge(60)
        for n in range(LOOKUPS):
            answer = await companion.call("POST", "/api/status/v1/assisted-lookups", json=found)
            assert answer.status_code in (200, 404), answer.text  # 404 while status has not heard yet
            assert n < LOOKUPS - 1 or answer.status_code == 200, answer.text
        eleventh = await companion.call("POST", "/api/status/v1/assisted-lookups", json=found)
        assert eleventh.status_code == 429, eleventh.text
        refused_properly([eleventh])


async def test_the_thirtieth_scan_in_ten_minutes_passes_and_the_thirty_first_is_refused(origin: str) -> None:
    async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
        token, walker = await scanner_at_a_new_venue(client, "三十測試館", "逛三十")
        await clear_of_window_edge(600)

        async def scan(n: int) -> httpx.Response:
            body = {"venue_token": token}
            return await walker.call(
                "POST", "/api/checkin/v1/scans", json=body, headers={"Idempotency-Key": f"walk-{n}"}
            )

        for n in range(1, CHECKINS + 1):
            answer = await scan(n)
            assert answer.status_code == 201, (n, answer.text)
        thirty_first = await scan(CHECKINS + 1)
        assert thirty_first.status_code == 429, thirty_first.text
        refused_properly([thirty_first])
        # A replay of an answered scan is no new check-in: it is answered, not refused.
        assert (await scan(CHECKINS)).status_code == 200


async def test_the_limiter_reserves_atomically_and_gives_back(infra: InfraSettings) -> None:
    """The shared limiter itself: of 50 concurrent hits on a limit of 5, exactly 5 pass; a release
    gives one place back."""
    from shared.cache import create_redis
    from shared.errors import RateLimited
    from shared.ratelimit import RateLimiter, Window

    # 50 connections open at once on a busy machine: a longer timeout than a service's 0.5 s.
    redis = create_redis(infra.redis.model_copy(update={"socket_timeout_s": 10.0}))
    try:
        limiter = RateLimiter(redis, infra.redis.key_prefix, "burst", [Window(LOGIN_FAILURES, 60)])
        now = 1_000_000_020.0  # one fixed window, away from its edges

        async def attempt() -> bool:
            try:
                await limiter.hit("someone", now=now)
            except RateLimited:
                return False
            return True

        passed = await asyncio.gather(*(attempt() for _ in range(BURST)))
        assert sum(passed) == LOGIN_FAILURES
        await limiter.release("someone", cost=BURST - LOGIN_FAILURES + 1, now=now)
        assert await attempt()
        assert not await attempt()
    finally:
        await redis.aclose()

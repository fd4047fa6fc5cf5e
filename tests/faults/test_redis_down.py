"""Redis stopped: check-ins are still recorded, with colour ``unknown``, and status is not ready;
Redis back (empty): status refills the cache and colours return (a red person reads red again).
Without Redis a repeated scan (same Idempotency-Key) is stored once all the same.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest

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
    staff_token,
    status_app,
    stored,
    stored_colours,
    tracing_app,
)
from tests.faults.servers import PrivateBroker, PrivateRedis, PrivateRedisCluster
from tests.people import born_years_ago, mainland_id
from tests.waiting import eventually

pytestmark = pytest.mark.faults

EACH_PHASE = 30
# status checks the cache's warm marker this often (its default is 3 s; the test need not wait so long).
CACHE_CHECK_S = 0.5


async def ready(client: httpx.AsyncClient, service: str) -> int:
    return (await client.get(f"/api/{service}/readyz")).status_code


async def test_redis_down_records_unknown_and_colours_return(
    infra: InfraSettings, broker: PrivateBroker, redis_server: PrivateRedis | PrivateRedisCluster
) -> None:
    private = private_infra(infra, kafka=broker.bootstrap, redis=redis_server.url)
    assert private.postgres_url is not None
    world = make_world(private, people=10, venues=2)
    case, venue = world.people[0], world.venues[0]
    authority = staff_token(private, uuid.uuid4(), "health_authority")
    started = time.monotonic()
    apps = (
        checkin_app(private),
        status_app(private, cache_check_interval_s=CACHE_CHECK_S),
        tracing_app(private),
    )
    async with running(*apps) as client:
        await seed(world, client)

        async def marked_red() -> bool:
            answer = await client.put(
                f"/api/status/v1/persons/{case}/status",
                json={"colour": "red", "reason": "confirmed_case"},
                headers=authority,
            )
            return answer.status_code == 200

        await eventually(marked_red, timeout_s=60, what="the case marked red")
        tally = Tally()
        first = await scan(client, world, case, venue, "red-before")
        tally.note(first)
        assert first.status_code == 201, first.text
        assert first.json()["checkins"][0]["colour"] == "red"
        await scan_all(client, world, plan(world, EACH_PHASE, "up"), tally)
        assert await ready(client, "status") == 200

        await redis_server.astop()

        async def status_not_ready() -> bool:
            return await ready(client, "status") == 503

        await eventually(status_not_ready, timeout_s=60, what="status readyz 503 without Redis")
        down = Tally()
        await scan_all(client, world, plan(world, EACH_PHASE, "down"), down)
        red_down = await scan(client, world, case, venue, "red-down")
        down.note(red_down)
        assert set(down.statuses) == {201}, down.statuses
        assert set(down.colours) == {"unknown"}, down.colours
        assert red_down.json()["checkins"][0]["colour"] == "unknown"
        print(f"\n[faults] Redis down: {len(down.acknowledged)} check-ins answered 201 with colour unknown")
        # An assisted lookup cannot be counted against its caller's limit: refused, to be retried.
        lookup = await client.post(
            "/api/status/v1/assisted-lookups",
            json={"name": "何老伯", "id_number": mainland_id(born_years_ago(75))},
            headers={**staff_token(private, world.people[1]), "Accept-Language": "en"},
        )
        assert lookup.status_code == 503, lookup.text
        assert lookup.headers["retry-after"] == "2"
        assert (
            lookup.json()["detail"]
            == "A service this request needs is unavailable for a moment; retry shortly."
        )

        await redis_server.astart()
        attempts = 0

        async def red_again() -> UUID | None:
            nonlocal attempts
            attempts += 1
            answer = await scan(client, world, case, venue, f"red-after-{attempts}")
            tally.note(answer)
            assert answer.status_code == 201, answer.text
            row = answer.json()["checkins"][0]
            return UUID(row["checkin_id"]) if row["colour"] == "red" else None

        red_after = await eventually(
            red_again, timeout_s=60, what="the case reads red again after the refill"
        )

        async def status_ready() -> bool:
            return await ready(client, "status") == 200

        await eventually(status_ready, timeout_s=60, what="status readyz 200 with Redis back")
        after = Tally()
        others = [s for s in plan(world, EACH_PHASE, "after") if s[0] != case]
        await scan_all(client, world, others, after)
        assert set(after.colours) == {"green"}, after.colours
        print(f"[faults] Redis back: red again after {attempts} scan(s)")

        everything = tally.acknowledged | down.acknowledged | after.acknowledged
        found = await drained(private.postgres_url, everything)
        colours = await stored_colours(private.postgres_url, [*down.acknowledged, red_after])
        assert {colours[c] for c in down.acknowledged} == {"unknown"}
        assert colours[red_after] == "red"
        assert_exactly_once("Redis stopped and restarted", everything, found)
        print(f"[faults] took {time.monotonic() - started:.1f} s")


async def test_a_repeated_scan_without_redis_is_stored_once(
    infra: InfraSettings, broker: PrivateBroker, redis_server: PrivateRedis | PrivateRedisCluster
) -> None:
    """A phone lost its answer and repeats the scan while Redis (the idempotency memory) is down:
    checkin records it again with the same checkin_id and, from the page's scanned_at, the same
    checked_in_at; tracing's key refuses the second row.
    """
    private = private_infra(infra, kafka=broker.bootstrap, redis=redis_server.url)
    assert private.postgres_url is not None
    world = make_world(private, people=2, venues=1)
    person, venue = world.people[0], world.venues[0]
    async with running(checkin_app(private), tracing_app(private)) as client:
        await seed(world, client)
        await redis_server.astop()
        tally = Tally()
        scanned_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        first = await scan(client, world, person, venue, "phone-lost-the-answer", scanned_at)
        tally.note(first)
        await drained(private.postgres_url, tally.acknowledged)
        before = duplicates_seen()
        again = await scan(client, world, person, venue, "phone-lost-the-answer", scanned_at)
        tally.note(again)
        assert first.status_code == again.status_code == 201, (first.text, again.text)
        assert first.json()["checkins"][0]["checkin_id"] == again.json()["checkins"][0]["checkin_id"]
        assert first.json()["checkins"][0]["checked_in_at"] == again.json()["checkins"][0]["checked_in_at"]
        assert datetime.fromisoformat(first.json()["checkins"][0]["checked_in_at"]) == datetime.fromisoformat(
            scanned_at
        )

        url = private.postgres_url

        async def repeat_read() -> bool:
            # Tracing either counts the repeat a duplicate (its metric) or stores a second row.
            rows: int = sum((await stored(url)).values())
            return duplicates_seen() > before or rows > 1

        await eventually(repeat_read, timeout_s=60, what="tracing read the repeated scan")
        found = await stored(private.postgres_url)
        assert_exactly_once("repeated scan without Redis", tally.acknowledged, found)

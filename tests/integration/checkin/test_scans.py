"""POST /scans against real Postgres, Redis and Kafka: the rules of a venue-code scan."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import FastAPI

from shared.colours import CachedColour, mark_warm, write_colours
from shared.events import VenuePosterReissued, VenuePosterReissuedData
from shared.settings import InfraSettings
from tests.integration.checkin.kit import (
    World,
    applied,
    bearer,
    body_of,
    checkin_events,
    keyed_checkin_events,
    recorded,
    runtime,
    send_registry,
    venue_token,
)
from tests.waiting import clear_of_window_edge

SCANS = "/api/checkin/v1/scans"


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def test_self_scan_is_recorded_keyed_by_venue(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    response = await client.post(
        SCANS,
        json={"venue_token": venue_token(app, world.venue_id), "temperature_band": "normal"},
        headers={**bearer(infra, world.citizen), **key()},
    )
    assert response.status_code == 201, response.text
    body = body_of(response)
    assert body["venue"] == {"venue_id": str(world.venue_id), "name": world.venue_name}
    [checkin] = body["checkins"]
    assert checkin["person_id"] == str(world.citizen)
    assert checkin["masked_name"] == "張*明"
    assert set(checkin) == {
        "checkin_id",
        "person_id",
        "masked_name",
        "colour",
        "reason",
        "reason_text",
        "checked_in_at",
    }
    [(record_key, event)] = await keyed_checkin_events(infra)
    assert record_key == str(world.venue_id).encode()
    assert event.type == "checkin.recorded"
    assert str(event.data.checkin_id) == checkin["checkin_id"]
    assert event.data.method == "self_scan"
    assert event.data.temperature_band == "normal"
    assert event.data.guardian_id is None


async def test_idempotency_key_is_required_and_bounded(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    payload = {"venue_token": venue_token(app, world.venue_id)}
    missing = await client.post(SCANS, json=payload, headers=bearer(infra, world.citizen))
    assert missing.status_code == 400
    assert missing.headers["content-type"].startswith("application/problem+json")
    too_long = await client.post(
        SCANS, json=payload, headers={**bearer(infra, world.citizen), "Idempotency-Key": "k" * 101}
    )
    assert too_long.status_code == 400
    assert await checkin_events(infra) == []


async def test_signed_out_caller_is_401(app: FastAPI, client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(SCANS, json={"venue_token": venue_token(app, world.venue_id)}, headers=key())
    assert response.status_code == 401


async def test_tampered_token_is_422_naming_the_field(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    token = venue_token(app, world.venue_id)
    tampered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    response = await client.post(
        SCANS, json={"venue_token": tampered}, headers={**bearer(infra, world.citizen), **key()}
    )
    assert response.status_code == 422
    assert [e["field"] for e in body_of(response)["errors"]] == ["venue_token"]
    assert await checkin_events(infra) == []


async def test_unknown_venue_is_404(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    response = await client.post(
        SCANS,
        json={"venue_token": venue_token(app, uuid.uuid4())},
        headers={**bearer(infra, world.citizen), **key()},
    )
    assert response.status_code == 404


async def test_old_poster_is_410_and_the_new_one_works(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    reissued = VenuePosterReissued(data=VenuePosterReissuedData(venue_id=world.venue_id, poster_version=2))
    await send_registry(app, [reissued], key=str(world.venue_id).encode())
    await applied(app, [reissued])
    old = await client.post(
        SCANS,
        json={"venue_token": venue_token(app, world.venue_id, 1)},
        headers={**bearer(infra, world.citizen), **key()},
    )
    assert old.status_code == 410
    assert "print" in body_of(old)["detail"]
    new = await client.post(
        SCANS,
        json={"venue_token": venue_token(app, world.venue_id, 2)},
        headers={**bearer(infra, world.citizen), **key()},
    )
    assert new.status_code == 201


async def test_family_scan_records_a_proxy_scan_for_the_dependent(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    response = await client.post(
        SCANS,
        json={
            "venue_token": venue_token(app, world.venue_id),
            "person_ids": [str(world.citizen), str(world.child)],
        },
        headers={**bearer(infra, world.citizen), **key()},
    )
    assert response.status_code == 201, response.text
    people = [c["person_id"] for c in body_of(response)["checkins"]]
    assert people == [str(world.citizen), str(world.child)]
    events = {e.data.person_id: e for e in await recorded(infra)}
    assert events[world.citizen].data.method == "self_scan"
    child = events[world.child].data
    assert child.method == "proxy_scan"
    assert child.guardian_id == world.citizen


async def test_someone_elses_person_is_403_and_nothing_is_recorded(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    response = await client.post(
        SCANS,
        json={
            "venue_token": venue_token(app, world.venue_id),
            "person_ids": [str(world.citizen), str(world.stranger)],
        },
        headers={**bearer(infra, world.citizen), **key()},
    )
    assert response.status_code == 403
    assert await checkin_events(infra) == []


async def test_the_same_key_answers_200_with_the_first_body_and_records_once(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    headers = {**bearer(infra, world.citizen), **key()}
    payload = {"venue_token": venue_token(app, world.venue_id)}
    first = await client.post(SCANS, json=payload, headers=headers)
    again = await client.post(SCANS, json=payload, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(await checkin_events(infra)) == 1
    # Another caller's identical key is their own scan.
    other = await client.post(SCANS, json=payload, headers={**headers, **bearer(infra, world.stranger)})
    assert other.status_code == 201


async def test_concurrent_requests_with_one_key_record_exactly_one_checkin(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    headers = {**bearer(infra, world.citizen), **key()}
    payload = {
        "venue_token": venue_token(app, world.venue_id),
        "person_ids": [str(world.citizen), str(world.child)],
    }
    answers = await asyncio.gather(*(client.post(SCANS, json=payload, headers=headers) for _ in range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 7 + [201], [a.text for a in answers]
    assert all(a.json() == answers[0].json() for a in answers)
    events = await checkin_events(infra)
    assert sorted(str(e.data.person_id) for e in events) == sorted([str(world.citizen), str(world.child)])


async def test_colours_come_from_the_cache_in_the_request_language(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    redis, prefix = runtime(app).redis, infra.redis.key_prefix
    await write_colours(redis, prefix, {world.child: CachedColour("yellow", "close_contact", 3)})
    await mark_warm(redis, prefix)
    response = await client.post(
        SCANS,
        json={
            "venue_token": venue_token(app, world.venue_id),
            "person_ids": [str(world.citizen), str(world.child)],
        },
        headers={**bearer(infra, world.citizen), **key(), "Accept-Language": "zh-TW"},
    )
    assert response.status_code == 201
    citizen, child = body_of(response)["checkins"]
    assert (citizen["colour"], citizen["reason"]) == ("green", "none")
    assert (child["colour"], child["reason"], child["reason_text"]) == (
        "yellow",
        "close_contact",
        "密切接觸者",
    )
    events = {e.data.person_id: e.data for e in await recorded(infra)}
    assert events[world.child].colour_at_checkin == "yellow"


async def test_a_cold_cache_answers_unknown(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    response = await client.post(
        SCANS,
        json={"venue_token": venue_token(app, world.venue_id)},
        headers={**bearer(infra, world.citizen), **key()},
    )
    assert body_of(response)["checkins"][0]["colour"] == "unknown"


async def test_more_than_30_checkins_in_10_minutes_is_429(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    payload = {"venue_token": venue_token(app, world.venue_id)}
    auth = bearer(infra, world.citizen)
    await clear_of_window_edge(600)
    for _ in range(30):
        ok = await client.post(SCANS, json=payload, headers={**auth, **key()})
        assert ok.status_code == 201
    refused = await client.post(SCANS, json=payload, headers={**auth, **key()})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert len(await checkin_events(infra)) == 30
    # The cap is per person: someone else still gets in.
    other = await client.post(SCANS, json=payload, headers={**bearer(infra, world.stranger), **key()})
    assert other.status_code == 201


async def test_the_answer_does_not_wait_for_the_stored_answer_and_a_retry_meanwhile_records_once(
    app: FastAPI, client: httpx.AsyncClient, world: World, infra: InfraSettings
) -> None:
    """The "inside" mark and the stored answer are written after the answer: held back here, the
    scan is answered all the same, and a retry arriving before the write waits for it (one record)."""
    cache = app.state.services.cache
    written, hold = asyncio.Event(), asyncio.Event()
    enter = cache.enter

    async def held_enter(*args: object, **kwargs: object) -> None:
        await hold.wait()
        await enter(*args, **kwargs)
        written.set()

    cache.enter = held_enter
    headers = {**bearer(infra, world.citizen), **key()}
    payload = {"venue_token": venue_token(app, world.venue_id)}
    first = await asyncio.wait_for(client.post(SCANS, json=payload, headers=headers), timeout=10)
    assert first.status_code == 201, first.text
    assert not written.is_set()
    retry = asyncio.create_task(client.post(SCANS, json=payload, headers=headers))
    await asyncio.sleep(0.2)  # the retry has claimed and found the key pending: it is waiting
    assert not retry.done()
    hold.set()
    again = await asyncio.wait_for(retry, timeout=10)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert len(await checkin_events(infra)) == 1

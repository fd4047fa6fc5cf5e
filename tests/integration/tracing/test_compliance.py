"""Issue 16: the compliance view: venues per region with no scan in N days or never printed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from services.tracing.app import create_app
from services.tracing.compliance import ComplianceService
from services.tracing.config import Settings
from services.tracing.pipeline import Ingest
from services.tracing.readmodel import RegistryProjection
from services.tracing.service import TracingService
from services.tracing.store import Store
from shared.auth import SESSION_COOKIE, AccessTokens
from shared.errors import InvalidValue
from shared.events import (
    VenuePosterPrinted,
    VenuePosterPrintedData,
    VenuePosterReissued,
    VenuePosterReissuedData,
    VenueRegistered,
    VenueRegisteredData,
)
from shared.keys import load_keys
from shared.localtime import shanghai_minute
from shared.settings import InfraSettings
from tests.integration.tracing.timeline import checkin, write_events

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
NOW = datetime.now(UTC).replace(microsecond=0)


async def _venue(
    registry: RegistryProjection, region: str, name: str, *, printed: int = 1, poster: int = 1
) -> uuid.UUID:
    venue_id = uuid.uuid4()
    data = VenueRegisteredData(
        venue_id=venue_id,
        region_code=region,
        name=name,
        category="other",
        poster_version=1,
        address=f"{name}路1号",
    )
    await registry.apply(VenueRegistered(data=data))
    if poster > 1:
        await registry.apply(
            VenuePosterReissued(data=VenuePosterReissuedData(venue_id=venue_id, poster_version=poster))
        )
    if printed:
        data_p = VenuePosterPrintedData(venue_id=venue_id, poster_version=printed, format="pdf")
        await registry.apply(VenuePosterPrinted(data=data_p))
    return venue_id


@pytest.fixture
async def world(
    tracing: TracingService, registry: RegistryProjection, ingest: Ingest
) -> dict[str, uuid.UUID]:
    venues = {
        "fresh": await _venue(registry, "440783", "甲新鲜店"),
        "stale": await _venue(registry, "440783", "乙久未扫码"),
        "never": await _venue(registry, "440781", "丙从未扫码"),
        "unprinted": await _venue(registry, "440783", "丁未打印", printed=0),
        "reissued": await _venue(registry, "440783", "戊新版未打印", printed=1, poster=2),
        "shenzhen": await _venue(registry, "440305", "己深圳店"),
    }
    person = uuid.uuid4()
    await write_events(
        ingest,
        [
            checkin(person, venues["fresh"], NOW - timedelta(days=1)),
            checkin(person, venues["stale"], NOW - timedelta(days=12)),
            checkin(person, venues["stale"], NOW - timedelta(days=10)),  # the latest of two
            checkin(person, venues["unprinted"], NOW - timedelta(hours=2)),
            checkin(person, venues["reissued"], NOW - timedelta(hours=3)),
            checkin(person, venues["shenzhen"], NOW - timedelta(days=30 - 10)),
        ],
    )
    return venues


async def test_lagging_venues_of_jiangmen_with_their_reasons(
    store: Store, world: dict[str, uuid.UUID]
) -> None:
    service = ComplianceService(store, clock=lambda: NOW)
    page = await service.lagging("440700", 7, None, 50)
    found = {item.venue.venue_id: item for item in page.venues}
    names = {v: k for k, v in world.items()}
    assert {names[v]: found[v].reasons for v in found} == {
        "stale": ("no_recent_scan",),
        "never": ("never_scanned",),
        "unprinted": ("poster_not_printed",),
        "reissued": ("poster_not_printed",),
    }
    stale = found[world["stale"]].venue
    assert stale.last_checkin_at == NOW - timedelta(days=10)
    assert stale.address == "乙久未扫码路1号"
    # Ordered by region code, then venue id: 台山市 440781 before 开平市 440783.
    assert page.venues[0].venue.region_code == "440781"
    assert page.next_after is None
    # N = 11 days: the venue last scanned 10 days ago is no longer listed.
    wider = await service.lagging("440783", 11, None, 50)
    assert world["stale"] not in {i.venue.venue_id for i in wider.venues}


async def test_paging_walks_every_lagging_venue_once(store: Store, world: dict[str, uuid.UUID]) -> None:
    service = ComplianceService(store, clock=lambda: NOW)
    seen: list[uuid.UUID] = []
    after = None
    for _ in range(10):
        page = await service.lagging("440000", 7, after, 1)
        seen.extend(i.venue.venue_id for i in page.venues)
        after = page.next_after
        if after is None:
            break
    assert sorted(seen) == sorted([world[k] for k in ("stale", "never", "unprinted", "reissued", "shenzhen")])
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("region", "days", "after", "limit", "field"),
    [
        (None, 0, None, 50, "days"),
        (None, 91, None, 50, "days"),
        (None, 7, None, 0, "limit"),
        (None, 7, None, 201, "limit"),
        ("990000", 7, None, 50, "region"),
        (None, 7, "nonsense", 50, "after"),
    ],
)
async def test_bounds(store: Store, region, days, after, limit, field) -> None:
    service = ComplianceService(store)
    with pytest.raises(InvalidValue) as raised:
        await service.lagging(region, days, after, limit)
    assert raised.value.errors[0]["field"] == field


async def test_edges_of_days_are_accepted(store: Store, world: dict[str, uuid.UUID]) -> None:
    service = ComplianceService(store, clock=lambda: NOW)
    assert (await service.lagging(None, 1, None, 200)).days == 1
    ninety = await service.lagging(None, 90, None, 200)
    listed = {i.venue.venue_id for i in ninety.venues}
    assert world["stale"] not in listed
    assert world["never"] in listed


async def test_api_roles_and_the_page(
    infra: InfraSettings, serve: Serve, tracing: TracingService, world: dict[str, uuid.UUID]
) -> None:
    tokens = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 3600)

    def bearer(*roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.issue(uuid.uuid4(), roles)}"}

    url = "/api/tracing/v1/compliance/venues"
    async with serve(create_app(Settings(infra=infra))) as client:
        assert (await client.get(url)).status_code == 401
        for roles in ((), ("epidemiologist",)):
            assert (await client.get(url, headers=bearer(*roles))).status_code == 403
        for role in ("operator", "health_authority"):
            answer = await client.get(url, params={"region": "440783", "days": 7}, headers=bearer(role))
            assert answer.status_code == 200, answer.text
        body = answer.json()
        listed = {v["venue_id"]: v for v in body["venues"]}
        stale = listed[str(world["stale"])]
        assert stale["region_names"] == {"province": "广东省", "city": "江门市", "district": "开平市"}
        assert stale["reasons"] == ["no_recent_scan"]
        assert str(world["fresh"]) not in listed
        bad = await client.get(url, params={"days": 91}, headers=bearer("operator"))
        assert bad.status_code == 422
        # The page: rendered by the server, last scans on the Beijing clock.
        client.cookies.set(SESSION_COOKIE, tokens.issue(uuid.uuid4(), ["operator"]))
        page = await client.get(
            "/tracing/compliance",
            params={"province": "440000", "city": "440700", "region": "440783", "days": 7},
            headers={"Accept-Language": "zh-CN"},
        )
        assert page.status_code == 200
        assert "乙久未扫码" in page.text
        assert "甲新鲜店" not in page.text
        assert shanghai_minute(NOW - timedelta(days=10)) in page.text
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, tokens.issue(uuid.uuid4(), ["epidemiologist"]))
        refused = await client.get("/tracing/compliance")
        assert refused.status_code == 403
        assert "乙久未扫码" not in refused.text

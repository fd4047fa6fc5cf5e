"""The outbreak endpoints over HTTP: exposure analyses (body, bounds, who may ask)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.tracing.app import create_app
from services.tracing.config import Settings
from shared.events import CHECKINS_TOPIC
from shared.settings import InfraSettings
from tests.integration.tracing.kafka_tools import send, until
from tests.integration.tracing.test_api import Issue, Serve, bearer, fields, window
from tests.integration.tracing.timeline import base_time, checkin, checkout, minutes

__all__ = ["bearer"]  # the fixture, shared with test_api.py
ANALYSES = "/api/tracing/v1/exposure-analyses"


async def test_exposure_analysis_over_http(infra: InfraSettings, serve: Serve, bearer: Issue) -> None:
    t0 = base_time()
    a, b, c, stranger, cafe, shop = (uuid.uuid4() for _ in range(6))
    epi_id = uuid.uuid4()
    epi = bearer(epi_id, ["epidemiologist"])
    events = [
        checkin(a, cafe, t0),
        checkout(a, cafe, t0 + minutes(30)),
        checkin(b, cafe, t0 + minutes(40)),  # 10 minutes after a left: shared with a 15-minute gap
        checkin(stranger, cafe, t0 + minutes(20)),
        checkin(a, shop, t0 + minutes(100)),
        checkin(b, shop, t0 + minutes(110)),
        checkin(c, shop, t0 + minutes(120)),
    ]
    body: dict[str, Any] = {
        "person_ids": [str(a), str(b), str(c)],
        **window(t0, t0 + minutes(240)),
        "gap_minutes": 15,
        "dwell_minutes": 30,
    }
    async with serve(create_app(Settings(infra=infra))) as client:
        for venue in (cafe, shop):
            await send(
                infra, CHECKINS_TOPIC, [e for e in events if e.data.venue_id == venue], key=venue.bytes
            )

        async def stored() -> bool:
            answer = await client.post(ANALYSES, json=body, headers=epi)
            return len(answer.json()["exposures"]) == 2

        await until(stored, "both shared venue-windows")
        created = await client.post(ANALYSES, json=body, headers=epi)
        shown = await client.get(f"{ANALYSES}/{created.json()['analysis_id']}", headers=epi)
        citizen = await client.post(ANALYSES, json=body, headers=bearer(uuid.uuid4(), []))
        anonymous = await client.post(ANALYSES, json=body)
        one = await client.post(ANALYSES, json={**body, "person_ids": [str(a)]}, headers=epi)
        twice = await client.post(ANALYSES, json={**body, "person_ids": [str(a), str(a)]}, headers=epi)
        too_many = [str(uuid.uuid4()) for _ in range(501)]
        crowd = await client.post(ANALYSES, json={**body, "person_ids": too_many}, headers=epi)
        gap = await client.post(ANALYSES, json={**body, "gap_minutes": -1}, headers=epi)
        unknown = await client.get(f"{ANALYSES}/{uuid.uuid4()}", headers=epi)

    assert created.status_code == 201, created.text
    answer = created.json()
    assert shown.json() == answer
    assert answer["person_ids"] == [str(a), str(b), str(c)]
    assert datetime.fromisoformat(answer["from"]) == datetime.fromisoformat(body["from"])
    assert [
        (e["venue_id"], e["case_count"], e["person_ids"], e["starts_at"], e["ends_at"])
        for e in answer["exposures"]
    ] == [
        (str(shop), 3, sorted([str(a), str(b), str(c)]), *_times(t0, 100, 150)),
        (str(cafe), 2, sorted([str(a), str(b)]), *_times(t0, 0, 70)),
    ]
    timeline = {t["person_id"]: [v["venue_id"] for v in t["visits"]] for t in answer["timelines"]}
    assert timeline == {str(a): [str(cafe), str(shop)], str(b): [str(cafe), str(shop)], str(c): [str(shop)]}
    assert citizen.status_code == 403
    assert anonymous.status_code == 401
    assert fields(one) == ["person_ids"]
    assert fields(twice) == ["person_ids"]
    assert fields(crowd) == ["person_ids"]
    assert fields(gap) == ["gap_minutes"]
    assert unknown.status_code == 404


def _times(t0: datetime, start: int, end: int) -> tuple[str, str]:
    return (
        (t0 + minutes(start)).isoformat().replace("+00:00", "Z"),
        (t0 + minutes(end)).isoformat().replace("+00:00", "Z"),
    )

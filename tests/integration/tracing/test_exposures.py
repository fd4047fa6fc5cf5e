"""Common exposures: the SQL agrees with the plain-Python model (reference_outbreaks.py)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.tracing.alerts import AlertService
from services.tracing.outbreaks import OutbreakService, Retention
from services.tracing.pipeline import Ingest
from services.tracing.service import TracingService
from services.tracing.store import Store
from shared.errors import InvalidValue, NotFound
from shared.events import StatusSet
from tests.integration.tracing import reference, reference_outbreaks
from tests.integration.tracing.conftest import Recorder
from tests.integration.tracing.timeline import base_time, checkin, checkout, minutes, write_events

TIMELINES = 40  # seeded, so a failure names a reproducible timeline


@pytest.fixture
def outbreaks(pool: asyncpg.Pool) -> OutbreakService:
    return OutbreakService(Store(pool), Retention(21))


async def test_exposures_match_the_reference_on_random_multi_case_timelines(
    ingest: Ingest, tracing: TracingService, outbreaks: OutbreakService
) -> None:
    t0 = base_time() - timedelta(hours=12)
    with_answer = 0
    for seed in range(TIMELINES):
        rng = random.Random(seed)
        cases = [uuid.uuid4() for _ in range(rng.randint(2, 6))]
        others = [uuid.uuid4() for _ in range(rng.randint(0, 3))]
        venues = [uuid.uuid4() for _ in range(rng.randint(1, 3))]
        # Visits cluster in a few hours at few venues, so most timelines share something;
        # gaps and check-outs put the edges (touching, just apart) in play.
        ins = [
            (rng.choice(cases + others), rng.choice(venues), t0 + minutes(rng.randrange(0, 300, 5)))
            for _ in range(rng.randint(3, 18))
        ]
        outs = [
            (person, venue, at + minutes(rng.randrange(5, 90, 5)))
            for person, venue, at in ins
            if rng.random() < 0.3
        ]
        start = t0 + minutes(rng.randrange(0, 200, 10))
        end = start + minutes(rng.randrange(60, 480, 10))
        dwell = rng.choice([None, 10, 30, 45, 120])
        gap = rng.choice([0, 0, 5, 15, 60])
        await write_events(
            ingest, [checkin(p, v, at) for p, v, at in ins] + [checkout(p, v, at) for p, v, at in outs]
        )

        got = await outbreaks.analyse(cases[0], cases, start, end, gap_minutes=gap, dwell_minutes=dwell)

        stay = minutes(dwell or 60)
        model = reference.visits(ins, outs, lambda _venue, stay=stay: stay)
        expected = reference_outbreaks.exposures(model, set(cases), start, end, minutes(gap))
        answer = [(e.venue_id, e.starts_at, e.ends_at, frozenset(e.case_ids)) for e in got.exposures]
        assert sorted(answer, key=repr) == sorted(expected, key=repr), f"timeline seed {seed}"
        counts = [len(e.case_ids) for e in got.exposures]
        assert counts == sorted(counts, reverse=True), f"ranked by cases, seed {seed}"
        assert all(e.case_ids == sorted(e.case_ids) for e in got.exposures)
        alive = sorted(
            (v.person, v.venue, v.start)
            for v in model
            if v.person in cases and v.start <= end and v.end > start and v.end > v.start
        )
        assert sorted((t.person_id, t.venue_id, t.checked_in_at) for t in got.timelines) == alive
        with_answer += bool(expected)
    assert with_answer >= TIMELINES * 0.6, with_answer  # most random timelines have a shared exposure


async def test_a_case_named_twice_counts_once_and_bounds_hold(outbreaks: OutbreakService) -> None:
    t0 = base_time()
    one = uuid.uuid4()
    with pytest.raises(InvalidValue) as raised:
        await outbreaks.analyse(one, [one, one], t0, t0 + minutes(60), gap_minutes=0, dwell_minutes=None)
    assert [e["field"] for e in raised.value.errors] == ["person_ids"]
    with pytest.raises(InvalidValue) as raised:
        await outbreaks.analyse(one, [one, uuid.uuid4()], t0, t0, gap_minutes=0, dwell_minutes=None)
    assert [e["field"] for e in raised.value.errors] == ["to"]
    many = [uuid.uuid4() for _ in range(500)]
    analysis = await outbreaks.analyse(one, many, t0, t0 + minutes(60), gap_minutes=0, dwell_minutes=None)
    assert analysis.exposures == []
    assert len(analysis.case_ids) == 500
    with pytest.raises(InvalidValue):
        await outbreaks.analyse(one, [*many, one], t0, t0 + minutes(60), gap_minutes=0, dwell_minutes=None)
    assert (await outbreaks.show(one, analysis.analysis_id)) == analysis
    with pytest.raises(NotFound):
        await outbreaks.show(one, uuid.uuid4())


async def test_analyses_and_alerts_go_with_the_retention_period(
    pool: asyncpg.Pool, tracing: TracingService, sent: list[StatusSet]
) -> None:
    now = datetime.now(UTC)

    def made(days_ago: int) -> tuple[OutbreakService, AlertService]:
        retention = Retention(21, clock=lambda: now - timedelta(days=days_ago))
        return OutbreakService(Store(pool), retention), AlertService(Store(pool), retention, Recorder(sent))

    kept, gone = [], []
    for days_ago, into in ((20, kept), (22, gone)):
        outbreaks, alerts = made(days_ago)
        start = now - timedelta(days=days_ago, hours=2)
        analysis = await outbreaks.analyse(
            uuid.uuid4(),
            [uuid.uuid4(), uuid.uuid4()],
            start,
            start + minutes(60),
            gap_minutes=0,
            dwell_minutes=None,
        )
        alert = await alerts.create(
            uuid.uuid4(), uuid.uuid4(), start, start + minutes(60), dwell_minutes=None, note=None
        )
        into.extend([analysis.analysis_id, alert.alert_id])

    await tracing.maintain()

    async with pool.acquire() as conn:
        left = await conn.fetch(
            "SELECT analysis_id AS id FROM tracing.exposure_analyses"
            " UNION ALL SELECT alert_id FROM tracing.venue_alerts"
        )
    assert sorted(r["id"] for r in left) == sorted(kept)

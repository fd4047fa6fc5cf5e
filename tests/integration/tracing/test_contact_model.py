"""The contact SQL agrees with the plain-Python rules (reference.py) on random timelines."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from services.tracing.service import TracingService
from tests.integration.tracing import reference
from tests.integration.tracing.timeline import base_time, checkin, checkout, minutes, query

TIMELINES = 60  # seeded, so a failure names a reproducible timeline


async def test_sql_matches_the_reference_rules_on_random_timelines(tracing: TracingService) -> None:
    t0 = base_time() - timedelta(hours=12)
    for seed in range(TIMELINES):
        rng = random.Random(seed)
        people = [uuid.uuid4() for _ in range(rng.randint(2, 7))]
        venues = [uuid.uuid4() for _ in range(rng.randint(1, 3))]
        ins = [
            (rng.choice(people), rng.choice(venues), t0 + minutes(rng.randrange(0, 600, 5)))
            for _ in range(rng.randint(2, 16))
        ]
        outs = [
            (person, venue, at + minutes(rng.randrange(0, 90, 5)))
            for person, venue, at in ins
            if rng.random() < 0.3
        ]
        start = t0 + minutes(rng.randrange(0, 500, 10))
        end = start + minutes(rng.randrange(10, 300, 10))
        dwell = rng.choice([None, 5, 30, 45, 120])
        min_overlap = rng.choice([1, 1, 10, 30])
        depth = rng.choice([1, 2])
        await tracing.ingest(
            [checkin(p, v, at) for p, v, at in ins] + [checkout(p, v, at) for p, v, at in outs]
        )

        result = await tracing.contact_query(
            people[0], query(people[0], start, end, depth=depth, dwell=dwell, min_overlap=min_overlap)
        )

        model = reference.visits(ins, outs, minutes(dwell or 60))
        expected = reference.contacts(model, people[0], start, end, minutes(min_overlap), depth)
        got = {c.person_id: (c.depth, c.overlap_minutes) for c in result.contacts}
        assert got == expected, f"timeline seed {seed}"
        assert len(result.contacts) == len(got)  # one row per contact

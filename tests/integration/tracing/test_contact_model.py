"""The contact SQL agrees with the plain-Python rules (reference.py) on random busy timelines.

Each timeline has a few busy venues registered through ``venue.registered`` (with categories
whose typical stays reach the 12-hour cap), a crowd checking in and out around each venue's
busy hour, and a window that may begin up to ~12 hours after the case's visit began. Its
events reach the store in several batches, in the order a venue's partition delivers them.
The answer must match the reference in person, depth, venue, both check-in times and overlap.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from services.tracing.models import Contact
from services.tracing.pipeline import Ingest
from services.tracing.readmodel import RegistryProjection
from services.tracing.service import TracingService
from shared.events import CheckinRecorded, CheckoutRecorded, VenueRegistered, VenueRegisteredData
from tests.integration.tracing import reference
from tests.integration.tracing.timeline import base_time, checkin, checkout, minutes, query, write_events

TIMELINES = 60  # seeded, so a failure names a reproducible timeline
# The typical stays API.md and the tracing rules promise for these categories (an unknown
# category, or none, stays 60 minutes); one venue in four states its own typical stay.
CATEGORY_STAYS: dict[str, int | None] = {
    "hotel": 720,
    "office": 480,
    "restaurant": 90,
    "shop": 20,
    "night-market": None,
}


@dataclass(frozen=True)
class Timeline:
    venues: list[VenueRegistered]
    stays: dict[UUID, timedelta]
    people: list[UUID]
    ins: list[tuple[UUID, UUID, datetime]]
    outs: list[tuple[UUID, UUID, datetime]]


def venue(rng: random.Random) -> tuple[VenueRegistered, timedelta]:
    category = rng.choice(list(CATEGORY_STAYS))
    own = rng.choice([None, None, None, rng.randint(10, 720)])
    stay = own or CATEGORY_STAYS[category] or 60
    event = VenueRegistered(
        data=VenueRegisteredData(
            venue_id=uuid.uuid4(),
            region_code="440106",
            name=f"{category} {rng.randint(1, 999)}",
            category=category,
            poster_version=1,
            typical_stay_minutes=own,
        )
    )
    return event, minutes(stay)


def timeline(rng: random.Random, t0: datetime) -> Timeline:
    registered = [venue(rng) for _ in range(rng.randint(2, 4))]
    ids = [e.data.venue_id for e, _ in registered]
    busy = {v: t0 + minutes(rng.randrange(12 * 60, 20 * 60)) for v in ids}
    people = [uuid.uuid4() for _ in range(rng.randint(20, 35))]
    ins = []
    for n, person in enumerate(people):
        for _ in range(rng.randint(2, 3) if n == 0 else rng.randint(1, 4)):
            where = rng.choice(ids)
            at = busy[where] + minutes(round(rng.gauss(0, 120)))
            ins.append((person, where, at))
    outs = [
        (person, where, at + minutes(rng.randint(1, 800))) for person, where, at in ins if rng.random() < 0.35
    ]
    return Timeline(
        [e for e, _ in registered], {e.data.venue_id: s for e, s in registered}, people, ins, outs
    )


def batches(rng: random.Random, line: Timeline) -> list[list[CheckinRecorded | CheckoutRecorded]]:
    """The events in time order (as a venue's partition delivers them), cut into 3 to 6 batches."""
    timed: list[tuple[datetime, CheckinRecorded | CheckoutRecorded]] = [
        (at, checkin(p, v, at)) for p, v, at in line.ins
    ] + [(at, checkout(p, v, at)) for p, v, at in line.outs]
    # A check-out at the very instant of a check-in goes after it, as the phone sends them.
    stream = [e for _, e in sorted(timed, key=lambda t: (t[0], isinstance(t[1], CheckoutRecorded)))]
    cuts = sorted(rng.sample(range(1, len(stream)), rng.randint(2, 5)))
    return [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]


def agrees(got: Contact, want: reference.Found) -> bool:
    meeting = (got.venue_id, got.contact_checked_in_at, got.case_checked_in_at, got.via_person_id)
    return (
        got.depth == want.depth and got.overlap_minutes == want.overlap_minutes and meeting in want.meetings
    )


async def test_sql_matches_the_reference_rules_on_random_busy_timelines(
    ingest: Ingest, registry: RegistryProjection, tracing: TracingService
) -> None:
    t0 = base_time() - timedelta(hours=24)
    asked = {"with_contacts": 0, "depth_2_found": 0, "long_overlaps": 0, "case_began_12h_edge": 0}
    for seed in range(TIMELINES):
        rng = random.Random(seed)
        line = timeline(rng, t0)
        for event in line.venues:
            assert await registry.apply(event)
        for batch in batches(rng, line):
            await write_events(ingest, batch)
        case = line.people[0]
        case_visit = rng.choice([at for p, _, at in line.ins if p == case])
        # Most windows open near a case visit; a quarter open 8 to 12 hours after it began,
        # where only visits near the 12-hour cap are still going.
        late = rng.random() < 0.25
        start = case_visit + minutes(rng.randint(8 * 60, 12 * 60) if late else rng.randint(-60, 60))
        end = start + minutes(rng.randint(30, 12 * 60))
        dwell = rng.choice([None, 720] if late else [None, None, 30, 720])
        min_overlap = rng.choice([1, 1, 5, 15])
        depth = 2 if seed % 2 == 0 else 1  # of these, most reach someone at depth 2

        result = await tracing.contact_query(
            case, query(case, start, end, depth=depth, dwell=dwell, min_overlap=min_overlap)
        )

        stays = line.stays

        def dwell_of(
            where: UUID, dwell: int | None = dwell, stays: dict[UUID, timedelta] = stays
        ) -> timedelta:
            return minutes(dwell) if dwell else stays[where]

        model = reference.visits(line.ins, line.outs, dwell_of)
        expected = reference.contacts(model, case, start, end, minutes(min_overlap), depth)
        got = {c.person_id: c for c in result.contacts}
        assert len(got) == len(result.contacts), f"timeline seed {seed}: a contact twice"
        assert got.keys() == expected.keys(), f"timeline seed {seed}"
        for person, contact in got.items():
            assert agrees(contact, expected[person]), f"timeline seed {seed}: {contact} vs {expected[person]}"
        asked["with_contacts"] += bool(got)
        asked["depth_2_found"] += any(c.depth == 2 for c in got.values())
        asked["long_overlaps"] += any(c.overlap_minutes > 360 for c in got.values())
        asked["case_began_12h_edge"] += any(
            c.case_checked_in_at <= start - minutes(6 * 60) for c in got.values()
        )

    print(f"contact model: {TIMELINES} timelines, {asked}")
    # The random cases must reach the hard parts, or the agreement above proves little.
    assert asked["with_contacts"] >= 0.8 * TIMELINES, asked
    assert asked["depth_2_found"] >= TIMELINES // 3, asked
    assert asked["long_overlaps"] >= 5, asked
    assert asked["case_began_12h_edge"] >= 5, asked

"""Contact-query semantics pinned on hand-built timelines, against the real Postgres store."""

from __future__ import annotations

import uuid

from services.tracing.pipeline import Ingest
from services.tracing.readmodel import RegistryProjection
from services.tracing.service import TracingService
from tests.integration.tracing.timeline import base_time, checkin, checkout, minutes, query, write_events

pytestmark = []


def ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


async def test_visitor_who_arrived_before_the_window_and_stayed_into_it_is_found(
    ingest: Ingest,
    tracing: TracingService,
) -> None:
    t0 = base_time()
    case, early, venue = ids(3)
    await write_events(
        ingest, [checkin(early, venue, t0 - minutes(30)), checkin(case, venue, t0 + minutes(10))]
    )

    result = await tracing.contact_query(case, query(case, t0, t0 + minutes(120)))

    assert [(c.person_id, c.overlap_minutes, c.depth) for c in result.contacts] == [(early, 20.0, 1)]


async def test_a_case_visit_that_began_before_the_window_and_overlaps_it_counts(
    ingest: Ingest,
    tracing: TracingService,
) -> None:
    t0 = base_time()
    case, other, venue = ids(3)
    await write_events(
        ingest, [checkin(case, venue, t0 - minutes(20)), checkin(other, venue, t0 + minutes(5))]
    )

    result = await tracing.contact_query(case, query(case, t0, t0 + minutes(60)))

    assert [v.checked_in_at for v in result.case_visits] == [t0 - minutes(20)]
    assert [c.person_id for c in result.contacts] == [other]


async def test_touching_intervals_are_not_contacts(ingest: Ingest, tracing: TracingService) -> None:
    t0 = base_time()
    case, before, after, venue = ids(4)
    await write_events(
        ingest,
        [
            checkin(before, venue, t0 - minutes(60)),  # [t0-60, t0): ends as the case arrives
            checkin(case, venue, t0),  # [t0, t0+60)
            checkin(after, venue, t0 + minutes(60)),  # arrives as the case leaves
        ],
    )

    result = await tracing.contact_query(case, query(case, t0 - minutes(90), t0 + minutes(120)))

    assert result.contacts == []


async def test_one_minute_of_overlap_is_a_contact(ingest: Ingest, tracing: TracingService) -> None:
    t0 = base_time()
    case, other, venue = ids(3)
    await write_events(ingest, [checkin(case, venue, t0), checkin(other, venue, t0 + minutes(59))])

    result = await tracing.contact_query(case, query(case, t0, t0 + minutes(60)))

    assert [(c.person_id, c.overlap_minutes) for c in result.contacts] == [(other, 1.0)]


async def test_a_check_out_shortens_a_visit(ingest: Ingest, tracing: TracingService) -> None:
    t0 = base_time()
    case, later, earlier, venue = ids(4)
    await write_events(
        ingest,
        [
            checkin(earlier, venue, t0 - minutes(50)),
            checkout(earlier, venue, t0),  # gone when the case arrives
            checkin(case, venue, t0),
            checkout(case, venue, t0 + minutes(20)),
            checkin(later, venue, t0 + minutes(30)),  # would overlap a 60-minute visit
        ],
    )

    result = await tracing.contact_query(case, query(case, t0 - minutes(60), t0 + minutes(60)))

    assert result.contacts == []
    assert [v.ends_at for v in result.case_visits] == [t0 + minutes(20)]


async def test_the_case_is_never_its_own_contact(ingest: Ingest, tracing: TracingService) -> None:
    t0 = base_time()
    case, venue = ids(2)
    await write_events(ingest, [checkin(case, venue, t0), checkin(case, venue, t0 + minutes(10))])

    result = await tracing.contact_query(case, query(case, t0, t0 + minutes(60), depth=2))

    assert len(result.case_visits) == 2
    assert result.contacts == []


async def test_each_contact_appears_once_with_its_largest_overlap(
    ingest: Ingest, tracing: TracingService
) -> None:
    t0 = base_time()
    case, other, first_venue, second_venue = ids(4)
    await write_events(
        ingest,
        [
            checkin(case, first_venue, t0),
            checkin(other, first_venue, t0 + minutes(50)),  # 10 minutes
            checkin(case, second_venue, t0 + minutes(180)),
            checkin(other, second_venue, t0 + minutes(200)),  # 40 minutes
        ],
    )

    result = await tracing.contact_query(case, query(case, t0, t0 + minutes(300)))

    assert len(result.contacts) == 1
    found = result.contacts[0]
    assert (found.person_id, found.venue_id, found.overlap_minutes) == (other, second_venue, 40.0)
    assert found.contact_checked_in_at == t0 + minutes(200)
    assert found.case_checked_in_at == t0 + minutes(180)


async def test_min_overlap_and_dwell_parameters(ingest: Ingest, tracing: TracingService) -> None:
    t0 = base_time()
    case, short, venue = ids(3)
    await write_events(ingest, [checkin(case, venue, t0), checkin(short, venue, t0 + minutes(50))])

    strict = await tracing.contact_query(case, query(case, t0, t0 + minutes(60), min_overlap=15))
    longer = await tracing.contact_query(case, query(case, t0, t0 + minutes(60), dwell=120, min_overlap=15))
    shorter = await tracing.contact_query(case, query(case, t0, t0 + minutes(60), dwell=30))

    assert strict.contacts == []
    assert [(c.person_id, c.overlap_minutes) for c in longer.contacts] == [(short, 70.0)]
    assert shorter.contacts == []


async def test_the_venue_typical_stay_sets_the_default_dwell(
    ingest: Ingest, registry: RegistryProjection, tracing: TracingService
) -> None:
    from shared.events import VenueRegistered, VenueRegisteredData

    t0 = base_time()
    case, other, venue = ids(3)
    await registry.apply(
        VenueRegistered(
            data=VenueRegisteredData(
                venue_id=venue,
                region_code="440106",
                name="茶餐廳",
                category="restaurant",
                poster_version=1,
                typical_stay_minutes=120,
            )
        )
    )
    await write_events(ingest, [checkin(case, venue, t0), checkin(other, venue, t0 + minutes(100))])

    result = await tracing.contact_query(case, query(case, t0, t0 + minutes(60)))

    assert [(c.person_id, c.overlap_minutes, c.venue_name) for c in result.contacts] == [
        (other, 20.0, "茶餐廳")
    ]


async def test_depth_two_starts_at_the_meeting_time(ingest: Ingest, tracing: TracingService) -> None:
    t0 = base_time()
    case, contact, before, after, during, v_case, v_before, v_after = ids(8)
    await write_events(
        ingest,
        [
            # The contact meets the case at t0+3h30 (the case arrives while the contact is there).
            checkin(contact, v_case, t0 + minutes(180)),
            checkin(during, v_case, t0 + minutes(185)),
            checkout(during, v_case, t0 + minutes(200)),  # leaves before the case comes
            checkin(case, v_case, t0 + minutes(210)),
            # Earlier that day the contact met `before`: that is before the meeting.
            checkin(contact, v_before, t0),
            checkin(before, v_before, t0 + minutes(10)),
            # Later the contact met `after`.
            checkin(contact, v_after, t0 + minutes(300)),
            checkin(after, v_after, t0 + minutes(320)),
        ],
    )

    one = await tracing.contact_query(case, query(case, t0, t0 + minutes(480)))
    two = await tracing.contact_query(case, query(case, t0, t0 + minutes(480), depth=2))

    assert [(c.person_id, c.depth) for c in one.contacts] == [(contact, 1)]
    assert [(c.person_id, c.depth) for c in two.contacts] == [(contact, 1), (after, 2)]
    second = two.contacts[1]
    assert second.via_person_id == contact
    assert second.case_checked_in_at == t0 + minutes(300)
    assert second.overlap_minutes == 40.0


async def test_depth_two_leaves_out_the_case_and_depth_one_contacts(
    ingest: Ingest, tracing: TracingService
) -> None:
    t0 = base_time()
    case, a, b, venue, elsewhere = ids(5)
    await write_events(
        ingest,
        [
            checkin(case, venue, t0),
            checkin(a, venue, t0 + minutes(10)),
            checkin(b, venue, t0 + minutes(20)),
            # a and b meet again later, with the case too: still depth 1 only.
            checkin(a, elsewhere, t0 + minutes(120)),
            checkin(b, elsewhere, t0 + minutes(125)),
            checkin(case, elsewhere, t0 + minutes(130)),
        ],
    )

    result = await tracing.contact_query(case, query(case, t0, t0 + minutes(240), depth=2))

    assert sorted((c.person_id, c.depth) for c in result.contacts) == sorted([(a, 1), (b, 1)])

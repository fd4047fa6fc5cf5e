"""A depth-1 contact query's answer is written by Postgres (``sql_answer.ANSWER``): the same bytes
orjson wrote from the per-row statements' rows before (``_DEPTH_1``, ``_DEPTH_2``, sorted by the
service, ``answers.contacts_json``), with every kind of value a name, an instant and an overlap
can take; the query is saved with those bytes and audited once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
import orjson
import pytest

from services.tracing.answers import contacts_json, visits_json
from services.tracing.models import Contact, QueryParameters
from services.tracing.pipeline import Ingest
from services.tracing.retention import Retention
from services.tracing.store import Store
from shared.events import CheckinRecorded, CheckoutRecorded
from tests.integration.tracing.timeline import base_time, checkin, checkout, minutes, query, write_events

# A name outside ASCII, a quote, a backslash and control characters JSON must escape; one venue
# is not registered at all (no name: null).
NAMES = ["广州 南站", 'the "Hub"', "tab\there\nline\x01\x7f\\ /", None]


def _at(event: CheckinRecorded | CheckoutRecorded) -> datetime:
    if isinstance(event, CheckoutRecorded):
        return event.data.checked_out_at
    return event.data.checked_in_at


def _rank(c: Contact) -> tuple[float, int]:
    return (-c.overlap_minutes, c.person_id.int)


async def _before(store: Store, q: QueryParameters) -> tuple[bytes, bytes]:
    """The answer's case visits and contacts as the per-row statements and orjson wrote them."""
    cutoff = Retention(21).cutoff()
    visits = await store.contacts.case_visits(q, cutoff)
    first = await store.contacts.contacts_depth_1(q, cutoff)
    second = await store.contacts.contacts_depth_2(q, first, cutoff) if q.depth == 2 else []
    found = sorted(first, key=_rank) + sorted(second, key=_rank)
    return visits_json(visits), contacts_json(found)


@pytest.mark.parametrize("depth", [1, 2])
async def test_the_answer_postgres_writes_has_the_bytes_orjson_wrote(
    pool: asyncpg.Pool, store: Store, ingest: Ingest, depth: int
) -> None:
    t0 = base_time()
    venues = [uuid.uuid4() for _ in NAMES]
    async with pool.acquire() as conn:
        for venue, name in zip(venues, NAMES, strict=True):
            if name is not None:
                await conn.execute(
                    "INSERT INTO tracing.venues (venue_id, region_code, name, category, typical_stay_minutes)"
                    " VALUES ($1, '440106', $2, 'shop', 45)",
                    venue,
                    name,
                )
    case = uuid.uuid4()
    people = [uuid.uuid4() for _ in range(24)]
    events: list[CheckinRecorded | CheckoutRecorded] = [
        checkin(case, v, t0 + minutes(10 * n)) for n, v in enumerate(venues)
    ]
    events.append(checkout(case, venues[0], t0 + minutes(20)))
    for n, person in enumerate(people):
        venue = venues[n % len(venues)]
        # Whole seconds, odd microseconds, overlaps of whole and fractional minutes (1/3, 0.1 ...).
        at = t0 + timedelta(minutes=n * 7 % 50, seconds=n * 13 % 60, microseconds=(0, 1, 610200)[n % 3])
        events.append(checkin(person, venue, at))
        if n % 4 == 1:
            events.append(checkout(person, venue, at + timedelta(minutes=17, seconds=20)))
        # Depth 2: each contact goes on to another venue where someone else is.
        later = at + minutes(90 + n)
        other = venues[(n + 1) % len(venues)]
        events.append(checkin(person, other, later))
        events.append(checkin(uuid.uuid4(), other, later - timedelta(minutes=n, microseconds=n * 37)))
    await write_events(ingest, sorted(events, key=_at))
    q = query(case, t0 - minutes(30), t0 + minutes(240), depth=depth)

    visits_before, contacts_before = await _before(store, q)
    actor, query_id = uuid.uuid4(), uuid.uuid4()
    answer = await store.contacts.answer(q, Retention(21).cutoff(), query_id, actor, t0 + minutes(300))

    assert answer.case_visits_json == visits_before
    assert answer.contacts_json == contacts_before
    found = orjson.loads(answer.contacts_json)
    assert answer.contact_count == len(found) >= 20
    assert {c["depth"] for c in found} == ({1, 2} if depth == 2 else {1})
    assert {c["venue_name"] for c in found} == set(NAMES)
    async with pool.acquire() as conn:
        saved = await conn.fetchrow(
            "SELECT contacts, contact_count, depth FROM tracing.contact_queries WHERE query_id = $1", query_id
        )
        audited = await conn.fetch(
            "SELECT actor_id, action, subject_id, count, detail FROM tracing.audit_log WHERE query_id = $1",
            query_id,
        )
    assert saved is not None
    assert (saved["contacts"], saved["contact_count"], saved["depth"]) == (contacts_before, len(found), depth)
    assert [(a["actor_id"], a["action"], a["subject_id"], a["count"]) for a in audited] == [
        (actor, "contact_query", case, len(found))
    ]
    assert orjson.loads(audited[0]["detail"]) == {"depth": depth, "case_visits": len(NAMES)}
    loaded = await store.contacts.load_query(query_id)
    assert loaded is not None
    assert contacts_json(loaded.contacts) == contacts_before
    # The per-row path (rows, then orjson: depth 2's) answers and saves the same.
    by_rows = await store.contacts.answer_by_rows(
        q, Retention(21).cutoff(), uuid.uuid4(), actor, t0 + minutes(300)
    )
    assert (by_rows.case_visits_json, by_rows.contacts_json, by_rows.contact_count) == (
        answer.case_visits_json,
        answer.contacts_json,
        answer.contact_count,
    )
    stored = await store.contacts.load_query(by_rows.query_id)
    assert stored is not None
    assert contacts_json(stored.contacts) == contacts_before

"""Outbreak work's rules with in-memory collaborators: how many cases an analysis takes, what it
keeps and audits, and how the contact graph merges the cases' contacts."""

from __future__ import annotations

import uuid

import pytest

from services.tracing.errors import AnalysisNotFound, NotificationsPaused, QueryNotFound
from services.tracing.models import AuditAction, Contact, ContactQueryResult, QueryParameters
from services.tracing.models_outbreaks import SharedExposure
from services.tracing.outbreaks import MAX_CASES, MIN_CASES, OutbreakService
from services.tracing.service import NOTIFICATIONS_KEY, TracingService
from shared.errors import InvalidValue
from shared.events import StatusSet
from tests.unit.tracing.fakes import T0, Clock, FakeStore, RecordingPublisher, minutes, retention

ACTOR = uuid.uuid4()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def outbreaks(store: FakeStore) -> OutbreakService:
    return OutbreakService(store.as_store(), retention(Clock()))


def contact(person: uuid.UUID, via: uuid.UUID, depth: int, overlap: float) -> Contact:
    return Contact(
        person_id=person,
        venue_id=uuid.uuid4(),
        venue_name="Wet market",
        contact_checked_in_at=T0 - minutes(60),
        case_checked_in_at=T0 - minutes(70),
        overlap_minutes=overlap,
        depth=depth,
        via_person_id=via,
        met_at=T0 - minutes(60),
    )


async def test_an_analysis_takes_two_to_five_hundred_different_cases(
    outbreaks: OutbreakService, store: FakeStore
) -> None:
    one = uuid.uuid4()

    async def analyse(cases: list[uuid.UUID]) -> object:
        return await outbreaks.analyse(ACTOR, cases, T0 - minutes(600), T0, gap_minutes=0, dwell_minutes=None)

    for cases in ([one], [one, one], [uuid.uuid4() for _ in range(MAX_CASES + 1)]):
        with pytest.raises(InvalidValue) as refused:
            await analyse(cases)
        assert refused.value.errors == [
            {"field": "person_ids", "message": f"must name {MIN_CASES} to {MAX_CASES} different people"}
        ]
    assert store.state.analyses == {}
    # A case named twice is one case; the bounds themselves are allowed.
    many = [uuid.uuid4() for _ in range(MAX_CASES - 1)]
    analysis = await outbreaks.analyse(
        ACTOR, [one, *many, one], T0 - minutes(600), T0, gap_minutes=0, dwell_minutes=None
    )
    assert analysis.case_ids == [one, *many]
    two = await outbreaks.analyse(
        ACTOR, [one, many[0]], T0 - minutes(600), T0, gap_minutes=0, dwell_minutes=None
    )
    assert two.case_ids == [one, many[0]]


async def test_an_analysis_is_kept_audited_and_shown_as_kept(
    outbreaks: OutbreakService, store: FakeStore
) -> None:
    cases = [uuid.uuid4(), uuid.uuid4()]
    store.state.exposures = [
        SharedExposure(
            venue_id=uuid.uuid4(), venue_name="Gym", starts_at=T0 - minutes(90), ends_at=T0, case_ids=cases
        )
    ]
    analysis = await outbreaks.analyse(ACTOR, cases, T0 - minutes(600), T0, gap_minutes=15, dwell_minutes=45)

    assert store.state.analyses == {analysis.analysis_id: analysis}
    assert (analysis.exposures, analysis.created_at, analysis.gap_minutes) == (store.state.exposures, T0, 15)
    [audit] = store.state.audit
    assert (audit.action, audit.count, audit.query_id, audit.detail) == (
        AuditAction.EXPOSURE_ANALYSIS,
        1,
        analysis.analysis_id,
        {"cases": 2, "gap_minutes": 15},
    )
    shown = await outbreaks.show(ACTOR, analysis.analysis_id, action=AuditAction.OUTBREAK_EXPORT)
    assert shown == analysis
    assert store.state.audit[-1].action == AuditAction.OUTBREAK_EXPORT
    with pytest.raises(AnalysisNotFound) as missing:
        await outbreaks.show(ACTOR, uuid.uuid4())
    assert missing.value.detail == "No exposure analysis has this id."


async def test_the_graph_keeps_each_person_at_the_smallest_depth_and_each_pair_at_its_largest_overlap(
    outbreaks: OutbreakService, store: FakeStore
) -> None:
    a, b, shared, far = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    analysis = await outbreaks.analyse(
        ACTOR, [a, b], T0 - minutes(600), T0, gap_minutes=0, dwell_minutes=None
    )
    # ``shared`` met case a directly, and case b only through a depth-1 contact of b's; ``far``
    # is reached at depth 2 from both cases, through ``shared``, with two overlaps.
    store.state.depth_1 = {a: [contact(shared, a, 1, 30.0)], b: [contact(far, b, 1, 5.0)]}
    store.state.depth_2 = {a: [contact(far, shared, 2, 10.0)], b: [contact(shared, far, 2, 50.0)]}
    store.state.depth_2[a].append(contact(far, shared, 2, 20.0))

    graph = await outbreaks.graph(ACTOR, analysis.analysis_id)

    assert {n.person_id: n.depth for n in graph.nodes} == {a: 0, b: 0, shared: 1, far: 1}
    edges = {(e.source, e.target): e.overlap_minutes for e in graph.edges}
    assert edges == {(a, shared): 30.0, (b, far): 5.0, (shared, far): 20.0, (far, shared): 50.0}
    assert store.state.audit[-1].action == AuditAction.OUTBREAK_GRAPH


# --- a contact query's notifications (the human gate) ------------------------------------


def stored_query(store: FakeStore, contacts: list[Contact]) -> uuid.UUID:
    case = uuid.uuid4()
    result = ContactQueryResult(
        query_id=uuid.uuid4(),
        requested_by=ACTOR,
        parameters=QueryParameters(
            person_id=case,
            from_at=T0 - minutes(600),
            to_at=T0,
            dwell_minutes=None,
            min_overlap_minutes=1,
            depth=1,
        ),
        case_visits=[],
        contacts=contacts,
        created_at=T0,
    )
    store.state.queries[result.query_id] = result
    return result.query_id


async def test_notifying_sends_one_set_per_contact_under_their_own_key(store: FakeStore) -> None:
    publisher = RecordingPublisher()
    tracing = TracingService(store.as_store(), retention(Clock()), publisher)
    people = [uuid.uuid4(), uuid.uuid4()]
    query_id = stored_query(store, [contact(p, uuid.uuid4(), 1, 12.0) for p in people])

    assert await tracing.notify(ACTOR, query_id, "yellow", "close_contact") == 2

    assert [s.key for s in publisher.sent] == [str(p).encode() for p in people]
    commands = publisher.events
    assert all(isinstance(c, StatusSet) for c in commands)
    assert [(c.data.person_id, c.data.colour, c.data.reason, c.data.source_query_id) for c in commands] == [
        (p, "yellow", "close_contact", query_id) for p in people
    ]
    last = store.state.audit[-1]
    assert (last.action, last.count, last.detail) == (
        AuditAction.NOTIFICATION,
        2,
        {"colour": "yellow", "reason": "close_contact"},
    )


async def test_notifying_is_refused_when_paused_for_an_unknown_reason_or_query(store: FakeStore) -> None:
    publisher = RecordingPublisher()
    tracing = TracingService(store.as_store(), retention(Clock()), publisher)
    query_id = stored_query(store, [contact(uuid.uuid4(), uuid.uuid4(), 1, 12.0)])

    with pytest.raises(InvalidValue) as reason:
        await tracing.notify(ACTOR, query_id, "yellow", "because")
    assert reason.value.errors[0]["field"] == "reason"
    with pytest.raises(QueryNotFound):
        await tracing.notify(ACTOR, uuid.uuid4(), "yellow", "close_contact")
    assert await tracing.set_notifications_paused(ACTOR, True) is True
    assert store.state.settings[NOTIFICATIONS_KEY] == {"paused": True}
    with pytest.raises(NotificationsPaused):
        await tracing.notify(ACTOR, query_id, "yellow", "close_contact")
    assert publisher.sent == []

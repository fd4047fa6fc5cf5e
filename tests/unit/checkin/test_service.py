"""The scan rules of CheckinService over in-memory collaborators: caps, replay, colours when the
cache is down."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.checkin.cache import CHECKIN_CAPS
from services.checkin.errors import NotAnInspector, RevokedPaperCode, UnknownVenue
from services.checkin.models import PersonView, Venue
from services.checkin.service import CheckinService
from shared.colours import CachedColour
from shared.errors import RateLimited
from shared.events import CheckinRecorded
from shared.keys import SigningKeys
from shared.tokens import TokenSigner
from tests.unit.checkin.fakes import Cache, Sent, Tables, service_of

SIGNER = TokenSigner(SigningKeys(Ed25519PrivateKey.generate()))
START = datetime(2026, 12, 6, 9, 0, 2, tzinfo=UTC)  # early in a 10-minute window


class World:
    def __init__(self) -> None:
        self.tables, self.cache, self.sent = Tables(), Cache(), Sent()
        self.venue, self.caller, self.child = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        self.tables.venues[self.venue] = Venue(self.venue, "海港街市", 1, None)
        self.tables.families[self.caller] = [
            PersonView(self.caller, "張*明", "44**", True, None),
            PersonView(self.child, "張*", "44**", True, "child"),
        ]
        self.token = SIGNER.venue_token(self.venue, 1)
        self.now = START

    async def service(self) -> CheckinService:
        service = await service_of(self.tables, self.cache, self.sent, SIGNER)
        service._clock = lambda: self.now
        return service


@pytest.fixture
def world() -> World:
    return World()


def recorded(sent: Sent) -> list[CheckinRecorded]:
    return [e for e in sent.events if isinstance(e, CheckinRecorded)]


async def test_the_ten_minute_cap_admits_30_scans_and_refuses_the_31st(world: World) -> None:
    service = await world.service()
    cap = CHECKIN_CAPS[0]
    assert (cap.limit, cap.seconds) == (30, 600)
    for i in range(cap.limit):
        await service.scan(world.caller, f"k{i}", world.token, None, None)
    with pytest.raises(RateLimited) as refused:
        await service.scan(world.caller, "one-more", world.token, None, None)
    assert refused.value.status_code == 429
    assert 0 < int(refused.value.headers["Retry-After"]) <= cap.seconds
    assert len(recorded(world.sent)) == cap.limit  # the refused scan published nothing
    # A rule's answer comes before the cap: an unknown venue is 404 even for a capped person.
    with pytest.raises(UnknownVenue):
        await service.scan(world.caller, "elsewhere", SIGNER.venue_token(uuid.uuid4(), 1), None, None)
    # The next window admits the person again.
    world.now = START + timedelta(seconds=cap.seconds)
    await service.scan(world.caller, "later", world.token, None, None)
    assert len(recorded(world.sent)) == cap.limit + 1


async def test_a_family_scan_counts_each_person(world: World) -> None:
    service = await world.service()
    for i in range(CHECKIN_CAPS[0].limit):
        await service.scan(world.caller, f"self-{i}", world.token, None, None)
    # The child has room, the caller has none: the family scan is refused as a whole.
    with pytest.raises(RateLimited):
        await service.scan(world.caller, "family", world.token, [world.caller, world.child], None)
    child_only = await service.scan(world.caller, "child", world.token, [world.child], None)
    assert [c.person_id for c in child_only.result.checkins] == [world.child]


async def test_a_retry_with_the_same_key_is_the_first_answer_and_one_record(world: World) -> None:
    service = await world.service()
    world.cache.colour_of[world.caller] = CachedColour("yellow", "close_contact", 1)
    first = await service.scan(world.caller, "k", world.token, None, "normal")
    # At once, before the answer's after-answer write ran: the retry waits for it, then replays.
    again = await service.scan(world.caller, "k", world.token, None, "normal")
    assert not first.replayed
    assert again.replayed
    assert again.result == first.result
    assert [c.colour for c in first.result.checkins] == ["yellow"]
    assert len(recorded(world.sent)) == 1
    # Concurrent attempts too: one records, the others replay its answer.
    outcomes = await asyncio.gather(
        *[service.scan(world.caller, "k2", world.token, None, None) for _ in range(3)]
    )
    assert sorted(o.replayed for o in outcomes) == [False, True, True]
    assert len({o.result for o in outcomes}) == 1
    assert len(recorded(world.sent)) == 2
    await service.drain()


async def test_without_the_cache_colours_are_unknown_and_a_retry_is_the_same_record(world: World) -> None:
    service = await world.service()
    world.cache.colour_of[world.caller] = CachedColour("red", "confirmed_case", 1)
    world.cache.down = True
    first = await service.scan(world.caller, "k", world.token, [world.caller, world.child], "fever")
    again = await service.scan(world.caller, "k", world.token, [world.caller, world.child], "fever")
    # Recorded anyway, colour unknown; nothing is refused for caps that cannot be counted.
    assert [c.colour for c in first.result.checkins] == ["unknown", "unknown"]
    assert [e.data.colour_at_checkin for e in recorded(world.sent)] == ["unknown"] * 4
    # The retry cannot be recognised, but it carries the same check-in and event ids and the same
    # time: tracing, keeping one row per checkin_id, records each person once.
    assert [c.checkin_id for c in again.result.checkins] == [c.checkin_id for c in first.result.checkins]
    assert len({e.event_id for e in recorded(world.sent)}) == 2
    for _ in range(CHECKIN_CAPS[0].limit):
        await service.scan(world.caller, str(uuid.uuid4()), world.token, None, None)
    assert len(recorded(world.sent)) == 4 + CHECKIN_CAPS[0].limit
    await service.drain()


async def test_a_reverse_scan_reads_bindings_people_and_serials_from_memory(world: World) -> None:
    service = await world.service()
    inspector, visitor = uuid.uuid4(), uuid.uuid4()
    world.tables.inspectors[world.venue] = {inspector}
    world.tables.families[visitor] = [PersonView(visitor, "陳*", "44**********12", True, None)]
    world.tables.serials[visitor] = 2
    code, _ = SIGNER.health_code(visitor, now=world.now.timestamp())
    first = await service.inspect(inspector, world.venue, code, "normal")
    assert (first.masked_name, first.masked_id, first.method) == ("陳*", "44**********12", "inspector_scan")
    reads = world.tables.reads
    await service.inspect(inspector, world.venue, SIGNER.paper_code(visitor, 2), "fever")
    assert world.tables.reads == reads  # bindings, person and serial from memory
    with pytest.raises(NotAnInspector):
        await service.inspect(world.caller, world.venue, code, "normal")
    # A newer card revokes the older once its change is noted; an unbinding likewise refuses.
    world.tables.serials[visitor] = 3
    world.tables.change("family", visitor)
    await service._memory.refresh()
    with pytest.raises(RevokedPaperCode):
        await service.inspect(inspector, world.venue, SIGNER.paper_code(visitor, 2), "normal")
    world.tables.inspectors[world.venue] = set()
    world.tables.change("venue", world.venue)
    await service._memory.refresh()
    with pytest.raises(NotAnInspector):
        await service.inspect(inspector, world.venue, code, "normal")
    assert [e.data.method for e in recorded(world.sent)] == ["inspector_scan", "paper_code"]
    await service.drain()

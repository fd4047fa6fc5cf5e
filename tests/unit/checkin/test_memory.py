"""services.checkin.memory: what a scan reads from memory, when it goes to the store, what it forgets."""

from __future__ import annotations

import uuid

from services.checkin.memory import Lru, Memory
from services.checkin.models import PersonView, Venue
from tests.unit.checkin.fakes import Tables


async def test_a_scan_reads_the_store_once_then_memory_until_a_change_is_noted() -> None:
    tables = Tables()
    memory = Memory(tables)  # type: ignore[arg-type]
    await memory.refresh()
    venue, caller, child = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tables.venues[venue] = Venue(venue, "Cafe", 1, None)
    tables.families[caller] = [
        PersonView(caller, "張*", "44**", True, None),
        PersonView(child, "李*", "44**", True, "child"),
    ]
    first = await memory.scan_context(venue, caller, None, 1)
    assert first is not None
    assert [p.person_id for p in first.people] == [caller, child]
    assert tables.reads == 2
    for _ in range(5):
        context = await memory.scan_context(venue, caller, [child, uuid.uuid4()], 1)
        assert context is not None
        assert [p.allowed for p in context.people] == [True, False]
    assert tables.reads == 2  # memory only

    tables.venues[venue] = Venue(venue, "Cafe (renamed)", 1, None)
    tables.change("venue", venue)
    assert (await memory.scan_context(venue, caller, None, 1)).venue.name == "Cafe"  # type: ignore[union-attr]
    assert await memory.refresh() == 1
    assert (await memory.scan_context(venue, caller, None, 1)).venue.name == "Cafe (renamed)"  # type: ignore[union-attr]
    assert tables.reads == 3  # the venue again, the family still from memory
    tables.families[caller] = tables.families[caller][:1]
    tables.change("family", caller)
    await memory.refresh()
    assert len((await memory.scan_context(venue, caller, None, 1)).people) == 1  # type: ignore[union-attr]


async def test_a_newer_poster_reloads_its_venue_once_and_an_unknown_venue_is_remembered() -> None:
    tables = Tables()
    memory = Memory(tables)  # type: ignore[arg-type]
    await memory.refresh()
    venue, caller = uuid.uuid4(), uuid.uuid4()
    tables.venues[venue] = Venue(venue, "Gym", 1, None)
    await memory.scan_context(venue, caller, None, 1)
    reads = tables.reads
    tables.venues[venue] = Venue(venue, "Gym", 2, None)  # reissued; its change not polled yet
    context = await memory.scan_context(venue, caller, None, 2)
    assert context is not None
    assert context.venue.poster_version == 2
    assert tables.reads == reads + 1
    await memory.scan_context(venue, caller, None, 2)
    await memory.scan_context(venue, caller, None, 1)  # the old poster: memory says 2 (410 follows)
    assert tables.reads == reads + 1
    unknown = uuid.uuid4()
    assert await memory.scan_context(unknown, caller, None, 1) is None
    assert await memory.scan_context(unknown, caller, None, 1) is None
    assert tables.reads == reads + 2
    tables.venues[unknown] = Venue(unknown, "New", 1, None)
    tables.change("venue", unknown)
    await memory.refresh()
    assert await memory.scan_context(unknown, caller, None, 1) is not None


def test_the_lru_keeps_the_most_recently_used() -> None:
    lru: Lru[int, str] = Lru(2)
    lru.put(1, "a")
    lru.put(2, "b")
    assert lru.get(1) == (True, "a")
    lru.put(3, "c")  # 2 was used least recently
    assert lru.get(2) == (False, None)
    assert lru.get(1) == (True, "a")
    assert lru.get(3) == (True, "c")


async def test_start_loads_venues_families_bindings_and_serials_then_reads_nothing() -> None:
    tables = Tables()
    venue, caller, child, inspector = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tables.venues[venue] = Venue(venue, "Cafe", 1, None)
    tables.inspectors[venue] = {inspector}
    tables.families[caller] = [PersonView(caller, "張*", "44**", True, None)]
    tables.families[child] = [PersonView(child, "李*", "44**", True, None)]
    tables.serials[child] = 4
    memory = Memory(tables)  # type: ignore[arg-type]
    await memory.refresh()
    await memory.load()
    reads = tables.reads
    context = await memory.scan_context(venue, caller, None, 1)
    assert context is not None
    assert [p.masked_name for p in context.people] == ["張*"]
    inspection = await memory.inspection_context(venue, inspector, child)
    assert (inspection.bound, inspection.person, inspection.paper_serial) == (
        True,
        PersonView(child, "李*", "44**", True, None),
        4,
    )
    assert tables.reads == reads  # all from what start loaded


async def test_a_change_reads_the_entry_again_so_a_person_registered_after_start_scans_from_memory() -> None:
    tables = Tables()
    memory = Memory(tables)  # type: ignore[arg-type]
    await memory.refresh()
    await memory.load()
    venue, caller = uuid.uuid4(), uuid.uuid4()
    tables.venues[venue] = Venue(venue, "Cafe", 1, None)
    tables.families[caller] = [PersonView(caller, "張*", "44**", True, None)]
    tables.serials[caller] = 2
    tables.change("venue", venue)
    tables.change("family", caller)
    assert await memory.refresh() == 2
    reads = tables.reads
    assert await memory.refresh() == 0  # the same changes again (the overlap): nothing read again
    assert tables.reads == reads
    context = await memory.scan_context(venue, caller, None, 1)
    assert context is not None
    assert [p.masked_name for p in context.people] == ["張*"]
    assert (await memory.inspection_context(venue, uuid.uuid4(), None)).bound is False
    assert tables.reads == reads  # venue, family and (empty) inspectors came with the poll
    # A change that reads nothing back (not registered yet) is only forgotten, as before.
    stranger = uuid.uuid4()
    tables.change("family", stranger)
    await memory.refresh()
    assert [p.person_id for p in await memory.people_of(stranger)] == [stranger]


def test_the_lru_keeps_what_it_holds_and_new_keys_while_there_is_room() -> None:
    lru: Lru[int, str] = Lru(3)
    lru.put(1, "a")
    lru.put(2, "b")
    assert lru.keep([5, 1, 6, 2]) == [5, 1, 2]  # one place left: 5 takes it, 6 waits for a miss

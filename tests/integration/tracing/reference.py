"""A plain-Python statement of the contact rules, to check the SQL against on random timelines.

It follows API.md and the choices documented in ``services/tracing/store_contacts.py``:
a visit is [check-in, min(check-in + dwell, first check-out after it)), the dwell being the
query's, else the venue's typical stay, else 60 minutes, 12 hours at most; a case visit
counts when it is alive inside [from, to] and began no later than ``to``; contacts overlap a
case visit by at least ``min_overlap``; depth 2 clips each depth-1 contact's visits to start
no earlier than the first moment they met the case. Each contact is reported once, with its
largest overlap; among equal overlaps, the earliest of its own check-ins, then the earliest
case check-in, then the venue id, then the person met: ``Found.meetings`` holds that one
(venue, contact check-in, case check-in, via).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

MAX_DWELL = timedelta(hours=12)

Meeting = tuple[UUID, datetime, datetime, UUID]  # venue, contact check-in, case check-in, via


@dataclass(frozen=True)
class Visit:
    person: UUID
    venue: UUID
    start: datetime
    end: datetime


@dataclass
class Found:
    depth: int
    overlap: timedelta
    meetings: set[Meeting] = field(default_factory=set)

    @property
    def overlap_minutes(self) -> float:
        return self.overlap.total_seconds() / 60


def visits(
    checkins: list[tuple[UUID, UUID, datetime]],
    checkouts: list[tuple[UUID, UUID, datetime]],
    dwell_of: Callable[[UUID], timedelta],
) -> list[Visit]:
    out = []
    for person, venue, start in checkins:
        end = start + min(dwell_of(venue), MAX_DWELL)
        later = [t for p, v, t in checkouts if p == person and v == venue and start < t <= start + MAX_DWELL]
        if later:
            end = min(end, *later)
        out.append(Visit(person, venue, start, end))
    return out


def _overlap(a_start: datetime, a_end: datetime, b: Visit) -> timedelta:
    return min(a_end, b.end) - max(a_start, b.start)


def _order(meeting: Meeting) -> tuple[datetime, datetime, int, int]:
    # Among equal overlaps: the earliest contact check-in, the earliest case check-in, then the
    # venue and the person met by id (uuid's order in Postgres is its bytes', the int's here).
    venue, contact_at, case_at, via = meeting
    return (contact_at, case_at, venue.int, via.int)


def _keep(found: dict[UUID, Found], person: UUID, depth: int, lap: timedelta, meeting: Meeting) -> None:
    """Keep the largest overlap, the tie broken as the SQL breaks it (``_order``)."""
    kept = found.get(person)
    if kept is None or lap > kept.overlap:
        found[person] = Found(depth, lap, {meeting})
        return
    if lap == kept.overlap and _order(meeting) < min(_order(m) for m in kept.meetings):
        kept.meetings = {meeting}


def contacts(
    all_visits: list[Visit], case: UUID, start: datetime, end: datetime, min_overlap: timedelta, depth: int
) -> dict[UUID, Found]:
    """person -> what the SQL may answer for them."""
    case_visits = [
        v for v in all_visits if v.person == case and v.start <= end and v.end > start and v.end > v.start
    ]
    found: dict[UUID, Found] = {}
    met: dict[UUID, datetime] = {}
    for cv in case_visits:
        for o in all_visits:
            if o.person == case or o.venue != cv.venue:
                continue
            lap = _overlap(cv.start, cv.end, o)
            if lap >= min_overlap:
                _keep(found, o.person, 1, lap, (o.venue, o.start, cv.start, case))
                met[o.person] = min(met.get(o.person, max(cv.start, o.start)), max(cv.start, o.start))
    if depth < 2:
        return found
    second: dict[UUID, Found] = {}
    for seed, met_at in met.items():
        for sv in all_visits:
            if sv.person != seed or sv.start > end or sv.start < met_at - MAX_DWELL:
                continue
            clipped = max(sv.start, met_at)
            if sv.end <= clipped:
                continue
            for o in all_visits:
                if o.venue != sv.venue or o.person == case or o.person in found:
                    continue
                lap = _overlap(clipped, sv.end, o)
                if lap >= min_overlap:
                    _keep(second, o.person, 2, lap, (o.venue, o.start, sv.start, seed))
    return {**found, **second}

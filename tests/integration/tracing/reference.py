"""A plain-Python statement of the contact rules, to check the SQL against on random timelines.

It follows API.md and the choices documented in ``services/tracing/store_contacts.py``:
a visit is [check-in, min(check-in + dwell, first check-out after it)); a case visit
counts when it is alive inside [from, to] and began no later than ``to``; contacts
overlap a case visit by at least ``min_overlap``; depth 2 clips each depth-1 contact's
visits to start no earlier than the first moment they met the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

MAX_DWELL = timedelta(hours=12)


@dataclass(frozen=True)
class Visit:
    person: UUID
    venue: UUID
    start: datetime
    end: datetime


def visits(
    checkins: list[tuple[UUID, UUID, datetime]],
    checkouts: list[tuple[UUID, UUID, datetime]],
    dwell: timedelta,
) -> list[Visit]:
    out = []
    for person, venue, start in checkins:
        end = start + min(dwell, MAX_DWELL)
        later = [t for p, v, t in checkouts if p == person and v == venue and start < t <= start + MAX_DWELL]
        if later:
            end = min(end, *later)
        out.append(Visit(person, venue, start, end))
    return out


def _overlap(a_start: datetime, a_end: datetime, b: Visit) -> timedelta:
    return min(a_end, b.end) - max(a_start, b.start)


def contacts(
    all_visits: list[Visit], case: UUID, start: datetime, end: datetime, min_overlap: timedelta, depth: int
) -> dict[UUID, tuple[int, float]]:
    """person -> (depth, largest overlap in minutes)."""
    case_visits = [
        v for v in all_visits if v.person == case and v.start <= end and v.end > start and v.end > v.start
    ]
    best: dict[UUID, timedelta] = {}
    met: dict[UUID, datetime] = {}
    for cv in case_visits:
        for o in all_visits:
            if o.person == case or o.venue != cv.venue:
                continue
            lap = _overlap(cv.start, cv.end, o)
            if lap >= min_overlap:
                best[o.person] = max(best.get(o.person, lap), lap)
                met[o.person] = min(met.get(o.person, max(cv.start, o.start)), max(cv.start, o.start))
    found = {p: (1, lap.total_seconds() / 60) for p, lap in best.items()}
    if depth < 2:
        return found
    second: dict[UUID, timedelta] = {}
    for seed, met_at in met.items():
        for sv in all_visits:
            if sv.person != seed or sv.start > end or sv.start < met_at - MAX_DWELL:
                continue
            clipped = max(sv.start, met_at)
            if sv.end <= clipped:
                continue
            for o in all_visits:
                if o.venue != sv.venue or o.person == case or o.person in best:
                    continue
                lap = _overlap(clipped, sv.end, o)
                if lap >= min_overlap:
                    second[o.person] = max(second.get(o.person, lap), lap)
    found.update({p: (2, lap.total_seconds() / 60) for p, lap in second.items()})
    return found

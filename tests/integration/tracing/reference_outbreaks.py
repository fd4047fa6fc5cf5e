"""A plain-Python statement of common exposures, to check the SQL against on random timelines.

Two case visits to one venue are linked when they overlap or when one starts at
most ``gap`` after the other ends; a shared exposure is a connected group of
linked visits (union-find over every pair) that holds two or more different cases.
Visits come from ``reference.visits``; a case visit counts when it is alive inside
[from, to], as for a contact query.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from tests.integration.tracing.reference import Visit

Exposure = tuple[UUID, datetime, datetime, frozenset[UUID]]


def _alive(v: Visit, start: datetime, end: datetime) -> bool:
    return v.start <= end and v.end > start and v.end > v.start


def _linked(a: Visit, b: Visit, gap: timedelta) -> bool:
    return a.venue == b.venue and b.start <= a.end + gap and a.start <= b.end + gap


def exposures(
    all_visits: list[Visit], cases: set[UUID], start: datetime, end: datetime, gap: timedelta
) -> list[Exposure]:
    """(venue, first start, last end, cases) of every shared exposure, in no particular order."""
    mine = [v for v in all_visits if v.person in cases and _alive(v, start, end)]
    parent = list(range(len(mine)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, a in enumerate(mine):
        for j in range(i + 1, len(mine)):
            if _linked(a, mine[j], gap):
                parent[root(j)] = root(i)
    groups: dict[int, list[Visit]] = {}
    for i, v in enumerate(mine):
        groups.setdefault(root(i), []).append(v)
    found = []
    for group in groups.values():
        people = frozenset(v.person for v in group)
        if len(people) >= 2:
            found.append((group[0].venue, min(v.start for v in group), max(v.end for v in group), people))
    return found

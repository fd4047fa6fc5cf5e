"""The contact-query SQL: one set-based statement per depth, bounded so partitions are pruned.

A visit is ``[checked_in_at, end)`` where end is the check-in plus the dwell
(the query's ``dwell_minutes``, else the venue's typical stay, else 60 minutes;
720 at most), or the check-out when that comes sooner. Every scan of
``tracing.checkins`` carries constant bounds on ``checked_in_at`` derived from
the window and the 12 h maximum dwell, so the planner prunes day partitions,
and joins go through the (venue_id, checked_in_at) and (person_id,
checked_in_at) indexes.
"""

# The statements are assembled from constants at import (no request data reaches
# the text; every value is a $n parameter), which S608 cannot tell apart.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.tracing.models import CaseVisit, Contact, QueryParameters
from services.tracing.store import MAX_DWELL_MINUTES

# Minutes a visit lasts when neither the query nor the venue says (API.md).
DEFAULT_DWELL_MINUTES = 60


def _end(alias: str, dwell: str) -> str:
    """The SQL expression of a visit's end for the check-in row ``alias`` joined to venue ``v<alias>``."""
    return (
        f"LEAST({alias}.checked_in_at + make_interval(mins => LEAST(COALESCE({dwell}::int,"
        f" v{alias}.typical_stay_minutes, {DEFAULT_DWELL_MINUTES}), {MAX_DWELL_MINUTES})),"
        f" COALESCE({alias}.checked_out_at, 'infinity'::timestamptz))"
    )


# $1 case, $2 from, $3 to, $4 dwell or NULL, $5 retention cutoff.
# Generous on purpose: a case visit that began up to 12 h before ``from`` and is
# still going at ``from`` counts, because the case was there inside the window.
_CASE_VISITS = f"""
    SELECT c.checkin_id, c.venue_id, vc.name AS venue_name, c.checked_in_at, c.checked_out_at,
           {_end("c", "$4")} AS ends_at
    FROM tracing.checkins AS c
    LEFT JOIN tracing.venues AS vc ON vc.venue_id = c.venue_id
    WHERE c.person_id = $1
      AND c.checked_in_at >= GREATEST($2::timestamptz - make_interval(mins => {MAX_DWELL_MINUTES}),
                                      $5::timestamptz)
      AND c.checked_in_at <= $3::timestamptz
"""

_SELECT_CASE_VISITS = f"""
    SELECT * FROM ({_CASE_VISITS}) AS cv
    WHERE cv.ends_at > $2::timestamptz AND cv.ends_at > cv.checked_in_at
    ORDER BY cv.checked_in_at
"""

# Depth 1. $6 min overlap minutes. Contacts' check-ins lie in
# [from - 24 h, to + 12 h): they overlap a case visit that starts no earlier
# than from - 12 h and ends no later than to + 12 h.
_DEPTH_1 = f"""
WITH case_visits AS ({_SELECT_CASE_VISITS}),
pairs AS (
    SELECT o.person_id, o.venue_id, o.checked_in_at AS contact_checked_in_at,
           cv.checked_in_at AS case_checked_in_at,
           LEAST(cv.ends_at, {_end("o", "$4")}) - GREATEST(cv.checked_in_at, o.checked_in_at) AS overlap,
           GREATEST(cv.checked_in_at, o.checked_in_at) AS overlap_start
    FROM case_visits AS cv
    JOIN tracing.checkins AS o
      ON o.venue_id = cv.venue_id
     AND o.checked_in_at >= cv.checked_in_at - make_interval(mins => {MAX_DWELL_MINUTES})
     AND o.checked_in_at < cv.ends_at
     AND o.checked_in_at >= GREATEST($2::timestamptz - make_interval(mins => {2 * MAX_DWELL_MINUTES}),
                                     $5::timestamptz)
     AND o.checked_in_at < $3::timestamptz + make_interval(mins => {MAX_DWELL_MINUTES})
    LEFT JOIN tracing.venues AS vo ON vo.venue_id = o.venue_id
    WHERE o.person_id <> $1
),
qualifying AS (
    SELECT p.*, min(p.overlap_start) OVER (PARTITION BY p.person_id) AS met_at
    FROM pairs AS p
    WHERE p.overlap >= make_interval(mins => $6)
)
SELECT DISTINCT ON (q.person_id)
       q.person_id, q.venue_id, vq.name AS venue_name, q.contact_checked_in_at, q.case_checked_in_at,
       extract(epoch FROM q.overlap)::float8 / 60 AS overlap_minutes, q.met_at
FROM qualifying AS q
LEFT JOIN tracing.venues AS vq ON vq.venue_id = q.venue_id
ORDER BY q.person_id, q.overlap DESC, q.contact_checked_in_at
"""

# Depth 2. $1 depth-1 contacts, $2 when each first met the case, $3 from, $4 to,
# $5 dwell or NULL, $6 retention cutoff, $7 min overlap, $8 people to leave out
# (the case and the depth-1 contacts). A depth-1 contact's visits count only
# from the moment they met the case: each is clipped to [max(start, met_at), end).
_DEPTH_2 = f"""
WITH seeds AS (
    SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) AS s(person_id, met_at)
),
seed_visits AS (
    SELECT s.person_id AS seed_id, c.venue_id, c.checked_in_at AS seed_checked_in_at,
           GREATEST(c.checked_in_at, s.met_at) AS starts_at, {_end("c", "$5")} AS ends_at
    FROM seeds AS s
    JOIN tracing.checkins AS c
      ON c.person_id = s.person_id
     AND c.checked_in_at >= s.met_at - make_interval(mins => {MAX_DWELL_MINUTES})
     AND c.checked_in_at >= GREATEST($3::timestamptz - make_interval(mins => {2 * MAX_DWELL_MINUTES}),
                                     $6::timestamptz)
     AND c.checked_in_at <= $4::timestamptz
    LEFT JOIN tracing.venues AS vc ON vc.venue_id = c.venue_id
),
live AS (
    SELECT * FROM seed_visits WHERE ends_at > starts_at
),
pairs AS (
    SELECT o.person_id, o.venue_id, o.checked_in_at AS contact_checked_in_at,
           l.seed_checked_in_at AS case_checked_in_at, l.seed_id,
           LEAST(l.ends_at, {_end("o", "$5")}) - GREATEST(l.starts_at, o.checked_in_at) AS overlap
    FROM live AS l
    JOIN tracing.checkins AS o
      ON o.venue_id = l.venue_id
     AND o.checked_in_at >= l.starts_at - make_interval(mins => {MAX_DWELL_MINUTES})
     AND o.checked_in_at < l.ends_at
     AND o.checked_in_at >= GREATEST($3::timestamptz - make_interval(mins => {2 * MAX_DWELL_MINUTES}),
                                     $6::timestamptz)
     AND o.checked_in_at < $4::timestamptz + make_interval(mins => {MAX_DWELL_MINUTES})
    LEFT JOIN tracing.venues AS vo ON vo.venue_id = o.venue_id
    WHERE o.person_id <> ALL($8::uuid[])
)
SELECT DISTINCT ON (p.person_id)
       p.person_id, p.venue_id, vp.name AS venue_name, p.contact_checked_in_at, p.case_checked_in_at,
       extract(epoch FROM p.overlap)::float8 / 60 AS overlap_minutes, p.seed_id AS via_person_id
FROM pairs AS p
LEFT JOIN tracing.venues AS vp ON vp.venue_id = p.venue_id
WHERE p.overlap >= make_interval(mins => $7)
ORDER BY p.person_id, p.overlap DESC, p.contact_checked_in_at
"""


async def case_visits(conn: asyncpg.Connection, q: QueryParameters, cutoff: datetime) -> list[CaseVisit]:
    """The case's visits that are alive inside [from, to] (see the note on generosity above)."""
    rows = await conn.fetch(_SELECT_CASE_VISITS, q.person_id, q.from_at, q.to_at, q.dwell_minutes, cutoff)
    return [CaseVisit(**dict(row)) for row in rows]


async def contacts_depth_1(conn: asyncpg.Connection, q: QueryParameters, cutoff: datetime) -> list[Contact]:
    rows = await conn.fetch(
        _DEPTH_1, q.person_id, q.from_at, q.to_at, q.dwell_minutes, cutoff, q.min_overlap_minutes
    )
    return [Contact(**dict(row), depth=1, via_person_id=q.person_id) for row in rows]


async def contacts_depth_2(
    conn: asyncpg.Connection, q: QueryParameters, first: Sequence[Contact], cutoff: datetime
) -> list[Contact]:
    """Contacts of the depth-1 contacts, from the moment each met the case; excludes depth 0 and 1."""
    seeds = [c for c in first if c.met_at is not None]
    if not seeds:
        return []
    rows = await conn.fetch(
        _DEPTH_2,
        [c.person_id for c in seeds],
        [c.met_at for c in seeds],
        q.from_at,
        q.to_at,
        q.dwell_minutes,
        cutoff,
        q.min_overlap_minutes,
        [q.person_id, *(c.person_id for c in first)],
    )
    return [Contact(**dict(row), depth=2) for row in rows]

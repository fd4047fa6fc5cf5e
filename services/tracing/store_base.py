"""What every tracing store class shares: where its statements run, and the shape of a visit.

A store class is built over ``Connections``: from the pool, each method takes a connection of
its own; in a unit of work (``Store.unit``), every method runs on the unit's one connection,
inside its transaction. So one class serves both, and no rule ever holds a connection.
"""

# The statements below are assembled from constants at import (every value a $n parameter).
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from shared import db

# A connection as every store holds it: its own, or the pool's (one shape for every service).
Conn = db.Conn

# The audit log's insert, one column order for every statement that writes a record of it.
AUDIT_INSERT = "INSERT INTO tracing.audit_log (actor_id, action, query_id, subject_id, count, detail)"
# A contact query's insert, one column order for the three statements that save one.
QUERY_INSERT = (
    "INSERT INTO tracing.contact_queries (query_id, requested_by, person_id, from_at, to_at, dwell_minutes,"
    " min_overlap_minutes, depth, case_visits, contact_count, created_at, contacts)"
)

# A visit never lasts longer than this (API.md: "12 hours at most"), so a scan
# for visits alive at time t starts at t - 12 h; it bounds every partition scan.
MAX_DWELL_MINUTES = 720
# Minutes a visit lasts when neither the query nor the venue says (API.md).
DEFAULT_DWELL_MINUTES = 60


class Connections:
    """The pool (a connection per method), or one held connection (a unit of work's)."""

    def __init__(self, pool: asyncpg.Pool | None = None, held: Conn | None = None) -> None:
        assert (pool is None) != (held is None)
        self._pool = pool
        self._held = held

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Conn]:
        if self._held is not None:
            yield self._held
            return
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            yield conn


def dwell_minutes(venue: str, dwell: str) -> str:
    """The SQL expression of a visit's dwell in minutes at the venue row ``venue``: ``dwell``, else
    the venue's typical stay, else 60 minutes; 720 at most."""
    return (
        f"LEAST(COALESCE({dwell}::int, {venue}.typical_stay_minutes, {DEFAULT_DWELL_MINUTES}),"
        f" {MAX_DWELL_MINUTES})"
    )


def visit_end(alias: str, dwell: str) -> str:
    """The SQL expression of a visit's end for the check-in row ``alias`` joined to venue ``v<alias>``:
    the check-in plus the dwell (``dwell``, else the venue's typical stay, else 60 minutes; 720 at
    most), or the check-out when that comes sooner."""
    return (
        f"LEAST({alias}.checked_in_at + make_interval(mins => {dwell_minutes('v' + alias, dwell)}),"
        f" COALESCE({alias}.checked_out_at, 'infinity'::timestamptz))"
    )


def affected(status: str) -> int:
    """The rows a statement touched, from its command tag (``DELETE 3``, ``UPDATE 0``)."""
    return int(status.rsplit(" ", 1)[-1])


def contact_end(alias: str, visit: str) -> str:
    """The end of check-in ``alias`` at the venue of ``visit``, with that visit's ``dwell``: the
    same venue, so the same dwell as ``visit_end`` gives, without joining the venue per row."""
    return (
        f"LEAST({alias}.checked_in_at + make_interval(mins => {visit}.dwell),"
        f" COALESCE({alias}.checked_out_at, 'infinity'::timestamptz))"
    )


# The case's visits of a contact query (``store_contacts``, ``sql_answer``).
# $1 case, $2 from, $3 to, $4 dwell or NULL, $5 retention cutoff.
# Generous on purpose: a case visit that began up to 12 h before ``from`` and is
# still going at ``from`` counts, because the case was there inside the window.
_CASE_VISITS = f"""
    SELECT c.checkin_id, c.venue_id, vc.name AS venue_name, c.checked_in_at, c.checked_out_at,
           {visit_end("c", "$4")} AS ends_at, {dwell_minutes("vc", "$4")} AS dwell
    FROM tracing.checkins AS c
    LEFT JOIN tracing.venues AS vc ON vc.venue_id = c.venue_id
    WHERE c.person_id = $1
      AND c.checked_in_at >= GREATEST($2::timestamptz - make_interval(mins => {MAX_DWELL_MINUTES}),
                                      $5::timestamptz)
      AND c.checked_in_at <= $3::timestamptz
"""

SELECT_CASE_VISITS = f"""
    SELECT * FROM ({_CASE_VISITS}) AS cv
    WHERE cv.ends_at > $2::timestamptz AND cv.ends_at > cv.checked_in_at
    ORDER BY cv.checked_in_at
"""


def depth_1_pairs(visits: str, extra: str) -> str:
    """The ``pairs`` of a depth-1 query: each check-in of someone else that can overlap a case visit
    of relation ``visits`` (a ``SELECT_CASE_VISITS`` row, aliased ``cv``), its overlap, and the
    ``extra`` columns the statement needs. Contacts' check-ins lie in [from - 24 h, to + 12 h):
    they overlap a case visit that starts no earlier than from - 12 h and ends no later than to +
    12 h. One text for ``store_contacts._DEPTH_1`` and ``sql_answer.ANSWER``, so that both find
    the same rows. $1 case, $2 from, $3 to, $5 retention cutoff."""
    return f"""
pairs AS (
    SELECT o.person_id, o.venue_id, cv.venue_name, o.checked_in_at AS contact_checked_in_at,
           cv.checked_in_at AS case_checked_in_at,
           LEAST(cv.ends_at, {contact_end("o", "cv")})
             - GREATEST(cv.checked_in_at, o.checked_in_at) AS overlap,
           {extra}
    FROM {visits} AS cv
    JOIN tracing.checkins AS o
      ON o.venue_id = cv.venue_id
     AND o.checked_in_at >= cv.checked_in_at - make_interval(mins => cv.dwell)
     AND o.checked_in_at < cv.ends_at
     AND o.checked_in_at >= GREATEST($2::timestamptz - make_interval(mins => {2 * MAX_DWELL_MINUTES}),
                                     $5::timestamptz)
     AND o.checked_in_at < $3::timestamptz + make_interval(mins => {MAX_DWELL_MINUTES})
    WHERE o.person_id <> $1
)"""


def depth_2_pairs(live: str) -> str:
    """The ``pairs`` of a depth-2 query: each check-in of someone not left out that can overlap a
    depth-1 contact's visit of relation ``live`` (``seed_id``, ``venue_id``, ``venue_name``,
    ``seed_checked_in_at``, ``starts_at``, ``ends_at``, ``dwell``), as its person, check-in time,
    ``overlap_minutes`` (float8) and the ``visit`` it met: the visits, ``numbered``, are numbered
    in the order of (check-in, venue, depth-1 person), the tie-break of ``store_contacts._DEPTH_2_FOUND``,
    so a pair carries no more than what picking a person's best pair needs (its sort was of rows
    with the venue's name; narrower, with the JSON written once a visit: Postgres CPU a depth-2
    statement 21.7 -> 19.2 ms on average over the 100 skewed bench cases, 131 -> 121 ms for the
    largest answer, same bytes). Visits tied on all three are alike in all that is answered of them.
    A contact's end is ``contact_end``'s with the visit's dwell made an interval once a visit
    (``stay``), not once a pair. The overlap is date_part's float8 (extract's numeric went to float8
    through its text: the same value, in the same order).

    A visit reaches the check-ins of its venue in [starts_at - dwell, ends_at). The visits of one
    venue whose reaches overlap are merged into islands first, and each island's range is read
    from the venue index once: a skewed case's 767 depth-1 contacts met at a station at once, and
    each of their visits read the same ~40 rows again (88 k rows read for 20 k distinct ones, the
    17,969-contact case). A check-in lies in at most one island of its venue, so joining the
    check-ins back to the visits of their island by the same reach gives the pairs the index
    ranges gave, no more, no less (the 100 skewed bench cases compared row for row; Postgres CPU a
    depth-2 statement 28.5 -> 24.5 ms on average, 380 -> 300 ms for the two largest). A new island
    starts where a visit's reach begins after every earlier reach of its venue has ended.
    $3 from, $4 to, $6 retention cutoff, $8 the people to leave out (see ``store_contacts._DEPTH_2_FOUND``),
    filtered out of ``met`` as it is joined."""
    return f"""
spans AS (
    SELECT l.*, l.starts_at - make_interval(mins => l.dwell) AS reach_from,
           max(l.ends_at) OVER (PARTITION BY l.venue_id
                                ORDER BY l.starts_at - make_interval(mins => l.dwell), l.ends_at
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reached
    FROM {live} AS l
),
numbered AS MATERIALIZED (
    SELECT s.*, count(*) FILTER (WHERE s.reached IS NULL OR s.reach_from > s.reached)
                  OVER (PARTITION BY s.venue_id ORDER BY s.reach_from, s.ends_at ROWS UNBOUNDED PRECEDING)
                  AS island,
           row_number() OVER (ORDER BY s.seed_checked_in_at, s.venue_id, s.seed_id) AS visit,
           make_interval(mins => s.dwell) AS stay
    FROM spans AS s
),
islands AS MATERIALIZED (
    SELECT n.venue_id, n.island, min(n.reach_from) AS reach_from, max(n.ends_at) AS reach_to
    FROM numbered AS n
    GROUP BY n.venue_id, n.island
),
met AS MATERIALIZED (
    SELECT i.venue_id, i.island, o.person_id, o.checked_in_at, o.checked_out_at
    FROM islands AS i
    JOIN tracing.checkins AS o
      ON o.venue_id = i.venue_id
     AND o.checked_in_at >= i.reach_from
     AND o.checked_in_at < i.reach_to
     AND o.checked_in_at >= GREATEST($3::timestamptz - make_interval(mins => {2 * MAX_DWELL_MINUTES}),
                                     $6::timestamptz)
     AND o.checked_in_at < $4::timestamptz + make_interval(mins => {MAX_DWELL_MINUTES})
),
pairs AS (
    SELECT o.person_id, l.visit, o.checked_in_at AS contact_checked_in_at,
           date_part('epoch', LEAST(l.ends_at, o.checked_in_at + l.stay,
                                    COALESCE(o.checked_out_at, 'infinity'::timestamptz))
                              - GREATEST(l.starts_at, o.checked_in_at)) / 60 AS overlap_minutes
    FROM numbered AS l
    JOIN (SELECT * FROM met AS m WHERE m.person_id NOT IN (SELECT unnest($8::uuid[]))) AS o
      ON o.venue_id = l.venue_id
     AND o.island = l.island
     AND o.checked_in_at >= l.reach_from
     AND o.checked_in_at < l.ends_at
)"""

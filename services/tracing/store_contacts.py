"""The contact-query SQL: one set-based statement per depth, bounded so partitions are pruned (a
depth-1 API query runs its rules inside one statement that also writes and saves its answer:
``sql_answer``).

A visit is ``[checked_in_at, end)`` where end is the check-in plus the dwell
(the query's ``dwell_minutes``, else the venue's typical stay, else 60 minutes;
720 at most), or the check-out when that comes sooner. Every scan of
``tracing.checkins`` carries constant bounds on ``checked_in_at`` derived from
the window and the 12 h maximum dwell, so the planner prunes day partitions,
and joins go through the (venue_id, checked_in_at) and (person_id,
checked_in_at) indexes.

Everyone at one venue has the same dwell (the query's, or that venue's), so a check-in
that can overlap a visit began at most one dwell before the visit: the venue-index range
of each visit reaches back that far, not the 12 h maximum (a shop's 20 minutes scanned a
station's 12 hours of check-ins before), and the other side's end reuses the visit's dwell
instead of joining the venue again per candidate row. Same rows, same answers.

A contact's venue is the visit's (the join is on venue_id), so its name comes with the visit:
a depth-2 answer of 6,200 contacts looked each one's venue up again (~22 k buffers of ~37 k).

The visits are MATERIALIZED CTEs on purpose: inlined, each visit's start and end were
expressions over three relations (seed, check-in, venue), and the planner kept them out of
the venue-index condition, so every visit read its venue's whole 21 days and filtered them
(a 1 M-row skewed store: 175 k rows and 190 k buffers for a 338-contact depth-2 answer,
~2 s). As columns of one relation they bound the index scan: 5.6 k buffers, ~35 ms.
"""

# The statements are assembled from constants at import (no request data reaches
# the text; every value is a $n parameter), which S608 cannot tell apart.
# ruff: noqa: S608

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from services.tracing.answers import contacts_json, contacts_of, visits_json
from services.tracing.models import (
    AuditAction,
    CaseVisit,
    Contact,
    ContactAnswer,
    ContactQueryResult,
    QueryParameters,
)
from services.tracing.sql_answer import ANSWER, depth_2_answer
from services.tracing.store_base import (
    AUDIT_INSERT,
    MAX_DWELL_MINUTES,
    QUERY_INSERT,
    SELECT_CASE_VISITS,
    Connections,
    depth_1_pairs,
    depth_2_pairs,
    dwell_minutes,
    visit_end,
)

# Depth 1. $6 min overlap minutes; the pairs as ``depth_1_pairs`` finds them.
_DEPTH_1 = f"""
WITH case_visits AS MATERIALIZED ({SELECT_CASE_VISITS}),
{depth_1_pairs("case_visits", "GREATEST(cv.checked_in_at, o.checked_in_at) AS overlap_start")},
qualifying AS (
    SELECT p.*, min(p.overlap_start) OVER (PARTITION BY p.person_id) AS met_at
    FROM pairs AS p
    WHERE p.overlap >= make_interval(mins => $6)
)
SELECT DISTINCT ON (q.person_id)
       q.person_id, q.venue_id, q.venue_name, q.contact_checked_in_at, q.case_checked_in_at,
       extract(epoch FROM q.overlap)::float8 / 60 AS overlap_minutes, q.met_at
FROM qualifying AS q
ORDER BY q.person_id, q.overlap DESC, q.contact_checked_in_at, q.case_checked_in_at, q.venue_id
"""

# Depth 2. $1 depth-1 contacts, $2 when each first met the case, $3 from, $4 to,
# $5 dwell or NULL, $6 retention cutoff, $7 min overlap, $8 people to leave out
# (the case and the depth-1 contacts). A depth-1 contact's visits count only
# from the moment they met the case: each is clipped to [max(start, met_at), end).
# The people to leave out are a hashed subplan (NOT IN a subquery: built once a query, one hash
# probe a candidate row). Written ``<> ALL($8)``, the generic plan the pool forces compared every
# candidate with every one of them (Postgres hashes such a list only when it is a constant):
# 17,938 contacts of 864 depth-1 people spent ~1 s of 1.5 s there. Same filter on the same scan,
# so the same rows in the same order (the 100 cases of the skewed bench store compared row for
# row): Postgres CPU 77 -> 35 ms a depth-2 query on average. Neither side holds NULLs, so NOT IN
# means what <> ALL meant. It filters the rows of ``met`` once they are read, not inside the scan
# of each day partition, whose copies of the subplan each built the hash again (20 times for a
# largest answer's 556 people): 17.6 -> 17.2 ms on average, same bytes (``depth_2_pairs``).
# ``found`` keeps each person's pair of largest overlap, ties to the earliest contact check-in, then
# ``visit`` (the depth-1 check-in, venue and person: ``depth_2_pairs``); the visit's venue, name,
# check-in and person are joined to the rows kept (``_DEPTH_2``, ``sql_answer.depth_2_answer``).
# The seeds go in person order, so each day partition's person index is probed in key order, one
# probe after another along the same pages: reading their visits 6.4 -> 5.9 ms on average.
_DEPTH_2_FOUND = f"""
WITH seeds AS (
    SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) AS s(person_id, met_at) ORDER BY s.person_id
),
seed_visits AS (
    SELECT s.person_id AS seed_id, c.venue_id, vc.name AS venue_name, c.checked_in_at AS seed_checked_in_at,
           GREATEST(c.checked_in_at, s.met_at) AS starts_at, {visit_end("c", "$5")} AS ends_at,
           {dwell_minutes("vc", "$5")} AS dwell
    FROM seeds AS s
    JOIN tracing.checkins AS c
      ON c.person_id = s.person_id
     AND c.checked_in_at >= s.met_at - make_interval(mins => {MAX_DWELL_MINUTES})
     AND c.checked_in_at >= GREATEST($3::timestamptz - make_interval(mins => {2 * MAX_DWELL_MINUTES}),
                                     $6::timestamptz)
     AND c.checked_in_at <= $4::timestamptz
    LEFT JOIN tracing.venues AS vc ON vc.venue_id = c.venue_id
),
live AS MATERIALIZED (
    SELECT * FROM seed_visits WHERE ends_at > starts_at
),
{depth_2_pairs("live")},
found AS (
    SELECT DISTINCT ON (p.person_id) p.person_id, p.visit, p.contact_checked_in_at, p.overlap_minutes
    FROM pairs AS p
    WHERE p.overlap_minutes >= $7::int
    ORDER BY p.person_id, p.overlap_minutes DESC, p.contact_checked_in_at, p.visit
)"""

# Depth 2's contacts as rows, in person order (as DISTINCT ON gave them before).
_DEPTH_2 = f"""{_DEPTH_2_FOUND}
SELECT f.person_id, l.venue_id, l.venue_name, f.contact_checked_in_at, l.seed_checked_in_at,
       f.overlap_minutes, l.seed_id AS via_person_id
FROM found AS f
JOIN numbered AS l ON l.visit = f.visit
ORDER BY f.person_id
"""

# Depth 2's contacts written after depth 1's, and the query saved with them (``depth_2_answer``).
_DEPTH_2_ANSWER = depth_2_answer(_DEPTH_2_FOUND)


# A query, its contacts (the answer's JSON of them: migration 0011) and its audit record, in one
# statement. Local tables on Citus too (only tracing.checkins is distributed).
_SAVE_QUERY = f"""
WITH saved AS (
    {QUERY_INSERT}
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)
)
{AUDIT_INSERT}
VALUES ($2, $13, $1, $3, $10, $14::jsonb)
"""

_LOAD_QUERY = """
SELECT query_id, requested_by, person_id, from_at, to_at, dwell_minutes, min_overlap_minutes, depth,
       case_visits, created_at, contacts
FROM tracing.contact_queries WHERE query_id = $1
"""

# The names the stored contacts' venues have now, as the rows of query_contacts were read before.
_VENUE_NAMES = "SELECT venue_id, name FROM tracing.venues WHERE venue_id = ANY($1::uuid[])"


# Old queries, their contacts with them (one row each); the count is of queries.
_DELETE_QUERIES = """
WITH gone AS (
    DELETE FROM tracing.contact_queries WHERE created_at < $1 RETURNING query_id
)
SELECT count(*) FROM gone
"""


# Rows become Contacts by position (the statements' columns in the dataclass's field order, then
# depth and whom they met): the columns are typed by Postgres (uuid, timestamptz, float8) as the
# fields are, and a skewed depth-2 answer has thousands of them.
class ContactStore:
    """Contact queries: the statements that find contacts, and the queries kept with their answers."""

    def __init__(self, db: Connections) -> None:
        self._db = db

    async def case_visits(self, q: QueryParameters, cutoff: datetime) -> list[CaseVisit]:
        """The case's visits that are alive inside [from, to] (see the note on generosity above)."""
        async with self._db() as conn:
            rows = await conn.fetch(
                SELECT_CASE_VISITS, q.person_id, q.from_at, q.to_at, q.dwell_minutes, cutoff
            )
        return [CaseVisit(**dict(row)) for row in rows]

    async def contacts_depth_1(self, q: QueryParameters, cutoff: datetime) -> list[Contact]:
        async with self._db() as conn:
            rows = await conn.fetch(
                _DEPTH_1, q.person_id, q.from_at, q.to_at, q.dwell_minutes, cutoff, q.min_overlap_minutes
            )
        case = q.person_id
        return [Contact(r[0], r[1], r[2], r[3], r[4], r[5], 1, case, r[6]) for r in rows]

    async def contacts_depth_2(
        self, q: QueryParameters, first: Sequence[Contact], cutoff: datetime
    ) -> list[Contact]:
        """Contacts of the depth-1 contacts, from the moment each met the case; excludes depth 0 and 1."""
        args = _depth_2_args(q, first, cutoff)
        if args is None:
            return []
        async with self._db() as conn:
            rows = await conn.fetch(_DEPTH_2, *args)
        return [Contact(r[0], r[1], r[2], r[3], r[4], r[5], 2, r[6]) for r in rows]

    async def answer(
        self, q: QueryParameters, cutoff: datetime, query_id: UUID, requested_by: UUID, created_at: datetime
    ) -> ContactAnswer:
        """Find the contacts (depth 1, and 2 when asked), save the query with them and its audit
        record (``contact_query``, counting the contacts), and return the answer's JSON of the case
        visits and contacts: at depth 1 one statement (``sql_answer.ANSWER``), so one round trip,
        atomic; at depth 2 ``answer_by_rows`` (see ``sql_answer`` for why)."""
        if q.depth >= 2:
            return await self.answer_by_rows(q, cutoff, query_id, requested_by, created_at)
        async with self._db() as conn:
            row = await conn.fetchrow(
                ANSWER,
                q.person_id,
                q.from_at,
                q.to_at,
                q.dwell_minutes,
                cutoff,
                q.min_overlap_minutes,
                query_id,
                requested_by,
                created_at,
                q.depth,
                AuditAction.CONTACT_QUERY.value,
            )
        assert row is not None
        return ContactAnswer(
            query_id=query_id,
            requested_by=requested_by,
            parameters=q,
            created_at=created_at,
            case_visits_json=row[0],
            contacts_json=row[1],
            contact_count=row[2],
        )

    async def answer_by_rows(
        self, q: QueryParameters, cutoff: datetime, query_id: UUID, requested_by: UUID, created_at: datetime
    ) -> ContactAnswer:
        """``answer`` in three round trips: the case visits, the depth-1 contacts as rows (written by
        orjson), then depth 2's written as JSON after them by the statement that saves the query
        with its audit record (``sql_answer.depth_2_answer``); at depth 1, or with no one to start
        depth 2 from, the save alone."""
        visits = await self.case_visits(q, cutoff)
        first = sorted(await self.contacts_depth_1(q, cutoff), key=_rank)
        listed, count = contacts_json(first), len(first)
        visited = visits_json(visits)  # the answer's bytes, saved as they are (as ANSWER does)
        detail = {"depth": q.depth, "case_visits": len(visits)}
        args = _depth_2_args(q, first, cutoff) if q.depth >= 2 else None
        if args is None:
            await self._save(
                query_id=query_id,
                requested_by=requested_by,
                p=q,
                created_at=created_at,
                visits=visited,
                count=count,
                listed=listed,
                audit_detail=detail,
            )
        else:
            async with self._db() as conn:
                row = await conn.fetchrow(
                    _DEPTH_2_ANSWER,
                    *args,
                    query_id,
                    requested_by,
                    q.person_id,
                    q.depth,
                    visited.decode(),
                    count,
                    created_at,
                    listed,
                    AuditAction.CONTACT_QUERY.value,
                    json.dumps(detail),
                )
            assert row is not None
            count, listed = int(row[0]), bytes(row[1])
        return ContactAnswer(
            query_id=query_id,
            requested_by=requested_by,
            parameters=q,
            created_at=created_at,
            case_visits_json=visited,
            contacts_json=listed,
            contact_count=count,
        )

    async def save_query(self, result: ContactQueryResult, audit_detail: dict[str, Any]) -> None:
        """Store a query with its contacts and its audit record (``contact_query``, by whoever
        asked, counting the contacts): one statement, so one round trip and atomic without a
        transaction of statements (a BEGIN, an INSERT, a COPY, an INSERT and a COMMIT before)."""
        found = result.contacts
        await self._save(
            query_id=result.query_id,
            requested_by=result.requested_by,
            p=result.parameters,
            created_at=result.created_at,
            visits=visits_json(result.case_visits),
            count=len(found),
            listed=contacts_json(found),
            audit_detail=audit_detail,
        )

    async def _save(
        self,
        *,
        query_id: UUID,
        requested_by: UUID,
        p: QueryParameters,
        created_at: datetime,
        visits: bytes,
        count: int,
        listed: bytes,
        audit_detail: dict[str, Any],
    ) -> None:
        async with self._db() as conn:
            await conn.execute(
                _SAVE_QUERY,
                query_id,
                requested_by,
                p.person_id,
                p.from_at,
                p.to_at,
                p.dwell_minutes,
                p.min_overlap_minutes,
                p.depth,
                visits.decode(),
                count,
                created_at,
                listed,
                AuditAction.CONTACT_QUERY.value,
                json.dumps(audit_detail),
            )

    async def load_query(self, query_id: UUID) -> ContactQueryResult | None:
        """A stored query with its contacts in the answer's order (depth, largest overlap, person),
        each venue named as it is now."""
        async with self._db() as conn:
            head = await conn.fetchrow(_LOAD_QUERY, query_id)
            if head is None:
                return None
            stored = orjson.loads(head["contacts"])
            venues = list({UUID(c["venue_id"]) for c in stored})
            names = {r["venue_id"]: r["name"] for r in await conn.fetch(_VENUE_NAMES, venues)}
        found = contacts_of(stored, names)
        found.sort(key=lambda c: (c.depth, -c.overlap_minutes, c.person_id.int))
        return ContactQueryResult(
            query_id=head["query_id"],
            requested_by=head["requested_by"],
            parameters=QueryParameters(
                person_id=head["person_id"],
                from_at=head["from_at"],
                to_at=head["to_at"],
                dwell_minutes=head["dwell_minutes"],
                min_overlap_minutes=head["min_overlap_minutes"],
                depth=head["depth"],
            ),
            case_visits=[CaseVisit(**v) for v in json.loads(head["case_visits"])],
            contacts=found,
            created_at=head["created_at"],
        )

    async def delete_queries_before(self, cutoff: datetime) -> int:
        """Queries older than ``cutoff``, their contacts with them (a value of the row: migration 0011)."""
        async with self._db() as conn:
            gone = await conn.fetchval(_DELETE_QUERIES, cutoff)
        return int(gone)


def _depth_2_args(q: QueryParameters, first: Sequence[Contact], cutoff: datetime) -> tuple[Any, ...] | None:
    """``_DEPTH_2``'s parameters for the depth-1 contacts ``first``; None when none met the case."""
    seeds = [c for c in first if c.met_at is not None]
    if not seeds:
        return None
    return (
        [c.person_id for c in seeds],
        [c.met_at for c in seeds],
        q.from_at,
        q.to_at,
        q.dwell_minutes,
        cutoff,
        q.min_overlap_minutes,
        [q.person_id, *(c.person_id for c in first)],
    )


def _rank(contact: Contact) -> tuple[float, int]:
    # The answer's order within a depth: largest overlap, then person id (the id's integer orders
    # as its text and as Postgres's uuid do).
    return (-contact.overlap_minutes, contact.person_id.int)

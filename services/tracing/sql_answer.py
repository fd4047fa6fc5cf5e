"""A depth-1 contact query answered by Postgres in one statement: it finds the case's visits and
the contacts (the rules of ``store_contacts._DEPTH_1``), writes both as the answer's JSON, saves
the query with them and its audit record, and returns the JSON, which the API passes through as it
is (``orjson.Fragment``). Three round trips, a Python object per contact and row, and orjson's
encoding were most of a depth-1 query's API CPU before. It runs unchanged on Citus (checked with
tests/integration/tracing/test_citus.py on a coordinator and two workers).

Depth 2 keeps its statements apart (``ContactStore.answer_by_rows``): written in this statement
too, on the skewed bench store at 16 in flight, its p50 went ~1,000 -> ~650 ms but its p99 ~3.3 ->
~4.6 s (one backend writes a largest answer's 14 k contacts), with the same CPU. Its depth-2
contacts are written as JSON after depth 1's, which the service passes in, by the statement that
also saves the query (``depth_2_answer``).
"""

# The statements are assembled from constants at import (no request data reaches
# the text; every value is a $n parameter), which S608 cannot tell apart.
# ruff: noqa: S608

from __future__ import annotations

from services.tracing.store_base import (
    AUDIT_INSERT,
    QUERY_INSERT,
    SELECT_CASE_VISITS,
    depth_1_pairs,
)

# --- the answer written by Postgres ---------------------------------------------------------
# A query through the API is one statement: it finds the case's visits and the contacts, writes
# both as the answer's JSON, saves the query with them and its audit record, and returns the JSON,
# which the API passes through as it is (``orjson.Fragment``). Three round trips, a Python object
# per contact and row, and orjson's encoding were most of a depth-1 query's API CPU before.
# The JSON is the bytes orjson wrote (``answers.contacts_json``): keys in the same order, ids as
# canonical text, instants in UTC with ``Z`` and microseconds only when there are any, minutes as
# the shortest text that reads back the same float (float8's output, as orjson's) with ``.0`` on
# whole numbers, names through to_json (the same escapes for what a name holds; parsed the same).


def _json_text(expr: str) -> str:
    """A JSON string or null."""
    return f"COALESCE(to_json({expr})::text, 'null')"


def _json_instant(expr: str) -> str:
    """A timestamptz as orjson writes a UTC datetime with ``OPT_UTC_Z``: to_json's ISO text of it
    in UTC (``"2026-12-07T05:34:26.1234"``, fraction trimmed) with the fraction padded to six
    digits and ``Z`` (to_char's format was twice the CPU)."""
    local = f"({expr} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN date_trunc('second', {local}) = {local} THEN left(to_json({local})::text, -1) || 'Z\"'"
        f" ELSE rpad(left(to_json({local})::text, -1), 27, '0') || 'Z\"' END"
    )


def _json_minutes(expr: str) -> str:
    """A float8 of 1 to 720 minutes as orjson writes it: float8's shortest exact text (never an
    exponent in that range), with ``.0`` when it is whole."""
    return f"({expr}::text || CASE WHEN {expr} = trunc({expr}) THEN '.0' ELSE '' END)"


def _json_visit_keys(cv: str, checked_in_at: str = "checked_in_at") -> str:
    """What a contact's JSON takes from the visit it met (a case visit at depth 1, a depth-1
    contact's at depth 2, whose check-in is ``checked_in_at``), written once a visit rather than
    once a contact: around the contact's check-in time and its overlap."""
    return (
        f"""'","venue_id":"' || {cv}.venue_id || '","venue_name":' || {_json_text(f"{cv}.venue_name")}"""
        """ || ',"contact_checked_in_at":' AS j_venue,"""
        f"""\n    ',"case_checked_in_at":' || {_json_instant(f"{cv}.{checked_in_at}")}"""
        """ || ',"overlap_minutes":' AS j_case"""
    )


def _json_first(a: str) -> str:
    """A depth-1 contact as ``answers.contacts_json`` writes it, from its visit's ``_json_visit_keys``."""
    return (
        f"""'{{"person_id":"' || {a}.person_id || {a}.j_venue"""
        f"""\n || {_json_instant(f"{a}.contact_checked_in_at")}"""
        f"""\n || {a}.j_case || {_json_minutes(f"{a}.overlap_minutes")}"""
        f"""\n || ',"depth":1,"via_person_id":"' || $1 || '"}}'"""
    )


def _json_second(a: str, k: str) -> str:
    """A depth-2 contact ``a`` as ``answers.contacts_json`` writes it, from the keys ``k`` of the
    visit it met (``_json_visit_keys`` and whom that visit was of)."""
    return (
        f"""'{{"person_id":"' || {a}.person_id || {k}.j_venue"""
        f"""\n || {_json_instant(f"{a}.contact_checked_in_at")}"""
        f"""\n || {k}.j_case || {_json_minutes(f"{a}.overlap_minutes")} || {k}.j_via"""
    )


def depth_2_answer(found: str) -> str:
    """Depth 2's contacts (``store_contacts._DEPTH_2_FOUND``: ``found``, a contact a row, each
    naming the depth-1 contact's visit it met in ``numbered``) written as JSON in the answer's
    order after depth 1's, and the query saved with them and its audit record: the statement
    returns the count of all the contacts and the saved array (``ContactStore.answer_by_rows``).
    On the skewed bench store, decoding thousands of rows, a Contact each, sorting and orjson were
    ~9 of a depth-2 query's ~13 ms of API CPU; writing the JSON here costs Postgres ~3 ms. What
    comes from the visit a contact met (its venue, name, check-in and person) is written once a
    visit (``keyed``: MATERIALIZED, or it is inlined and written again for each contact), as depth
    1 does with ``_json_visit_keys``. Saved here, the answer's megabytes no longer go back from the
    service to Postgres in a statement of their own (a largest answer's 2.5 MB).
    $9 query id, $10 who asked, $11 the case, $12 depth, $13 case visits (JSON), $14 depth 1's
    count, $15 when, $16 depth 1's contacts (the JSON array), $17 the audit action, $18 its detail."""
    return f"""{found},
keyed AS MATERIALIZED (
    SELECT l.visit, {_json_visit_keys("l", "seed_checked_in_at")},
           ',"depth":2,"via_person_id":"' || l.seed_id || '"}}' AS j_via
    FROM numbered AS l
),
second AS (
    SELECT count(*) AS n,
           string_agg({_json_second("f", "k")}, ',' ORDER BY f.overlap_minutes DESC, f.person_id) AS contacts
    FROM found AS f
    JOIN keyed AS k ON k.visit = f.visit
),
saved AS (
    {QUERY_INSERT}
    SELECT $9::uuid, $10::uuid, $11::uuid, $3, $4, $5, $7, $12::int, $13::jsonb, $14::int + second.n,
           $15::timestamptz,
           CASE WHEN second.n = 0 THEN $16::bytea
                ELSE substring($16::bytea FROM 1 FOR octet_length($16::bytea) - 1)
                     || convert_to(',' || second.contacts || ']', 'UTF8') END
    FROM second
    RETURNING contact_count, contacts
),
audited AS (
    {AUDIT_INSERT}
    SELECT $10::uuid, $17::text, $9::uuid, $11::uuid, saved.contact_count, $18::jsonb
    FROM saved
)
SELECT saved.contact_count, saved.contacts FROM saved
"""


def _json_visit(a: str) -> str:
    return (
        f"""'{{"checkin_id":"' || {a}.checkin_id || '","venue_id":"' || {a}.venue_id"""
        f"""\n || '","venue_name":' || {_json_text(f"{a}.venue_name")}"""
        f"""\n || ',"checked_in_at":' || {_json_instant(f"{a}.checked_in_at")}"""
        f"""\n || ',"ends_at":' || {_json_instant(f"{a}.ends_at")}"""
        f"""\n || ',"checked_out_at":' || COALESCE({_json_instant(f"{a}.checked_out_at")}, 'null') || '}}'"""
    )


# The depth-1 contacts of the query's case, as _DEPTH_1 finds them, with the tie-break that makes
# the visit named deterministic: when a contact's largest overlap ties, its earliest check-in, then
# the earliest case check-in, then the venue id (before, whichever row the sort met first).
# $1 case, $2 from, $3 to, $4 dwell or NULL, $5 retention cutoff, $6 min overlap.
# Unlike _DEPTH_1 it leaves out when each contact first met the case (only depth 2's seeds need it:
# the window over each person's pairs is a sort saved).
_FIRST = f"""
case_visits AS MATERIALIZED ({SELECT_CASE_VISITS}),
keyed_visits AS MATERIALIZED (
    SELECT cv.*, {_json_visit_keys("cv")}
    FROM case_visits AS cv
),
{depth_1_pairs("keyed_visits", "cv.j_venue, cv.j_case")},
first AS MATERIALIZED (
    SELECT DISTINCT ON (q.person_id)
           q.person_id, q.venue_id, q.venue_name, q.j_venue, q.j_case, q.contact_checked_in_at,
           q.case_checked_in_at,
           extract(epoch FROM q.overlap)::float8 / 60 AS overlap_minutes
    FROM pairs AS q
    WHERE q.overlap >= make_interval(mins => $6)
    ORDER BY q.person_id, q.overlap DESC, q.contact_checked_in_at, q.case_checked_in_at, q.venue_id
)"""


# The answer's order: the largest overlap first, then the person id (uuid's order is its bytes',
# as the service's ``_rank`` has it).
_FOUND = f"""
found AS (
    SELECT count(*) AS n,
           '[' || COALESCE(string_agg({_json_first("f")}, ','
                                      ORDER BY f.overlap_minutes DESC, f.person_id), '') || ']' AS contacts
    FROM first AS f
)"""

# $7 query id, $8 who asked, $9 when, $10 depth, $11 the audit action.
# The saved query and its audit record are data-modifying CTEs, which run once whether or not the
# SELECT reads them. The contacts returned are the bytes saved, written again from ``found``:
# ``RETURNING contacts`` kept a copy of each ~40 kB answer for the SELECT, ~0.04 ms of a depth-1
# statement's ~1.42 ms of Postgres CPU (skewed bench store, 100 cases one at a time, 14
# alternating rounds: 1.439 -> 1.398 ms, median).
_ANSWER_TAIL = f"""
visits AS (
    SELECT count(*) AS n,
           '[' || COALESCE(string_agg({_json_visit("v")}, ',' ORDER BY v.checked_in_at, v.checkin_id), '')
           || ']' AS json
    FROM case_visits AS v
),
saved AS (
    {QUERY_INSERT}
    SELECT $7::uuid, $8::uuid, $1, $2, $3, $4, $6, $10::int, visits.json::jsonb, found.n, $9::timestamptz,
           convert_to(found.contacts, 'UTF8')
    FROM found, visits
),
audited AS (
    {AUDIT_INSERT}
    SELECT $8::uuid, $11::text, $7::uuid, $1, found.n,
           jsonb_build_object('depth', $10::int, 'case_visits', visits.n)
    FROM found, visits
)
SELECT convert_to(visits.json, 'UTF8') AS case_visits, convert_to(found.contacts, 'UTF8') AS contacts,
       found.n AS contact_count
FROM visits, found
"""

ANSWER = f"WITH {_FIRST},\n{_FOUND},{_ANSWER_TAIL}"

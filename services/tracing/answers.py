"""A contact query's contacts as JSON: written once by orjson, for the answer and for the stored query.

The answer (``api._answer``) takes these bytes as they are (``orjson.Fragment``), and the store keeps
the same bytes with the query (tracing migration 0011): saving a depth-2 answer of thousands of
contacts as rows, then as arrays of them, spent more of the worker's CPU encoding each value again
(a timestamp is converted to UTC and subtracted from an epoch, one at a time) than finding them.
orjson writes floats, UUIDs, strings and datetimes as pydantic does (``OPT_UTC_Z``: pydantic's ``Z``
for UTC); floats in their shortest form that reads back exactly, so a stored contact reads back
equal (``tests/unit/tracing/test_contact_answer.py``, ``test_query_contacts_json.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from services.tracing.models import CaseVisit, Contact, ContactAnswer, ContactOut, ContactQueryResult


def text_of_id(value: object) -> str:
    """asyncpg's UUIDs (a subclass orjson does not take) as their canonical text."""
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def contacts_json(contacts: Sequence[ContactOut]) -> bytes:
    """The answer's ``contacts`` array, in the given order."""
    return orjson.dumps(
        [
            {
                "person_id": c.person_id,
                "venue_id": c.venue_id,
                "venue_name": c.venue_name,
                "contact_checked_in_at": c.contact_checked_in_at,
                "case_checked_in_at": c.case_checked_in_at,
                "overlap_minutes": c.overlap_minutes,
                "depth": c.depth,
                "via_person_id": c.via_person_id,
            }
            for c in contacts
        ],
        default=text_of_id,
        option=orjson.OPT_UTC_Z,
    )


def visits_json(visits: Sequence[CaseVisit]) -> bytes:
    """The answer's ``case_visits`` array, in the given order."""
    return orjson.dumps(
        [
            {
                "checkin_id": v.checkin_id,
                "venue_id": v.venue_id,
                "venue_name": v.venue_name,
                "checked_in_at": v.checked_in_at,
                "ends_at": v.ends_at,
                "checked_out_at": v.checked_out_at,
            }
            for v in visits
        ],
        default=text_of_id,
        option=orjson.OPT_UTC_Z,
    )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def contacts_of(stored: Sequence[Mapping[str, Any]], names: Mapping[UUID, str | None]) -> list[Contact]:
    """Contacts again from their stored JSON (``orjson.loads`` of ``contacts_json``), each venue
    named as ``names`` has it now (None when it is gone)."""
    found = []
    for c in stored:
        venue = UUID(c["venue_id"])
        found.append(
            Contact(
                UUID(c["person_id"]),
                venue,
                names.get(venue),
                _instant(c["contact_checked_in_at"]),
                _instant(c["case_checked_in_at"]),
                float(c["overlap_minutes"]),
                int(c["depth"]),
                UUID(c["via_person_id"]),
            )
        )
    return found


def answer_of(result: ContactQueryResult) -> ContactAnswer:
    """A result's answer: its case visits and contacts written by orjson (a stored query's venues
    named as they are now; the same bytes Postgres writes for a new one, ``sql_answer.ANSWER``)."""
    return ContactAnswer(
        query_id=result.query_id,
        requested_by=result.requested_by,
        parameters=result.parameters,
        created_at=result.created_at,
        case_visits_json=visits_json(result.case_visits),
        contacts_json=contacts_json(result.contacts),
        contact_count=len(result.contacts),
    )


def result_of(answer: ContactAnswer) -> ContactQueryResult:
    """An answer's JSON read back as a result (the service's callers other than the API)."""
    stored = orjson.loads(answer.contacts_json)
    return ContactQueryResult(
        query_id=answer.query_id,
        requested_by=answer.requested_by,
        parameters=answer.parameters,
        case_visits=[CaseVisit(**v) for v in orjson.loads(answer.case_visits_json)],
        contacts=contacts_of(stored, {UUID(c["venue_id"]): c["venue_name"] for c in stored}),
        created_at=answer.created_at,
        contacts_json=answer.contacts_json,
    )

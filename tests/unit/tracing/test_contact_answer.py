"""A contact query's answer is written by orjson from the result (``api._answer``): the same bytes
FastAPI made from the ``response_model`` before, for answers with every kind of value."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from asyncpg.pgproto.pgproto import UUID as PgUUID
from fastapi import FastAPI

from services.tracing.answers import answer_of
from services.tracing.api import _answer
from services.tracing.models import CaseVisit, Contact, ContactQueryOut, ContactQueryResult, QueryParameters

AT = datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=UTC)


def result(contacts: int) -> ContactQueryResult:
    case = uuid.UUID(int=7)
    found = [
        Contact(
            # Ids as asyncpg makes them (a UUID subclass) and as Python does.
            person_id=(PgUUID(uuid.UUID(int=100 + n).bytes), uuid.UUID(int=100 + n))[n % 2],
            venue_id=PgUUID(uuid.UUID(int=1000 + n % 3).bytes),
            # A name outside ASCII, a missing name, a quote and control characters that JSON
            # must escape, and a backslash.
            venue_name=("广州 南站", None, 'the "Hub"', "tab\there\nline\x01\x7f\\ /")[n % 4],
            # UTC with and without microseconds, UTC as a fixed offset, and +08:00.
            contact_checked_in_at=(
                AT + timedelta(minutes=n, microseconds=n),
                AT.replace(microsecond=0),
                AT.astimezone(timezone(timedelta(0))),
                AT.astimezone(timezone(timedelta(hours=8))),
            )[n % 4],
            case_checked_in_at=AT.astimezone(timezone(timedelta(hours=8))),
            overlap_minutes=(60.0, 59.983333333333334, 15.5, 1e-05, 1e-07, 1e16, 720.0, 1 / 3)[n % 8],
            depth=1 + n % 2,
            via_person_id=case,
            met_at=AT,
        )
        for n in range(contacts)
    ]
    return ContactQueryResult(
        query_id=uuid.UUID(int=1),
        requested_by=uuid.UUID(int=2),
        parameters=QueryParameters(
            person_id=case,
            from_at=AT - timedelta(days=14),
            to_at=AT,
            dwell_minutes=None,
            min_overlap_minutes=15,
            depth=2,
        ),
        case_visits=[
            CaseVisit(
                checkin_id=uuid.UUID(int=3 + n),
                venue_id=uuid.UUID(int=1000),
                venue_name=("广州 南站", None)[n % 2],
                checked_in_at=AT,
                ends_at=AT + timedelta(hours=1, microseconds=n),
                checked_out_at=(None, AT + timedelta(minutes=30))[n % 2],
            )
            for n in range(min(contacts, 3))
        ],
        contacts=found,
        created_at=AT,
    )


@pytest.mark.parametrize("contacts", [0, 1, 16, 1500])
async def test_the_answer_has_the_bytes_fastapi_made_from_the_response_model(contacts: int) -> None:
    app = FastAPI()
    found = result(contacts)
    answer = ContactQueryOut.of(found)

    @app.get("/model", response_model=ContactQueryOut)
    async def by_model() -> ContactQueryOut:
        return answer

    @app.get("/direct")
    async def direct() -> object:
        return _answer(answer_of(found), 201)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        before = await client.get("/model")
        after = await client.get("/direct")
    assert after.status_code == 201
    assert after.headers["content-type"] == before.headers["content-type"] == "application/json"
    assert after.content == before.content
    body = after.json()
    assert len(body["contacts"]) == contacts
    assert "met_at" not in (body["contacts"][0] if contacts else {})
    assert body["from"] == (AT - timedelta(days=14)).isoformat()

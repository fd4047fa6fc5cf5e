"""Retention: check-ins older than the period are unreadable and their partitions dropped, while
the audit log outlives them; and the gaps the tracing service still has, pinned as xfail."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from services.tracing.app import MIGRATIONS
from services.tracing.config import Settings
from services.tracing.models import CheckinRow, QueryParameters
from services.tracing.retention import Retention
from services.tracing.service import TracingService
from services.tracing.store import Store
from shared.auth import AccessTokens
from shared.db import create_pool, migrate
from shared.keys import load_keys
from shared.settings import InfraSettings
from tests.integration.tracing.timeline import partition_names

RETENTION_DAYS = 21
Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def pool(infra: InfraSettings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(infra.postgres)
    await migrate(pool, "tracing", MIGRATIONS)
    try:
        yield pool
    finally:
        await pool.close()


class _Nowhere:
    """A status-command sender that sends nothing (no command is asked for here)."""

    async def send(self, events: Sequence[BaseModel], key: bytes) -> None:
        return None


def visit(person: uuid.UUID, venue: uuid.UUID, at: datetime) -> CheckinRow:
    return CheckinRow(
        checkin_id=uuid.uuid4(),
        person_id=person,
        venue_id=venue,
        method="self_scan",
        temperature_band=None,
        colour_at_checkin="green",
        inspector_id=None,
        guardian_id=None,
        checked_in_at=at,
    )


async def test_old_checkins_are_unreadable_and_dropped_while_the_audit_log_stays(pool: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    retention = Retention(RETENTION_DAYS, clock=lambda: now)
    tracing = TracingService(Store(pool), retention, _Nowhere(), partitions_ahead_days=2)
    cutoff = retention.cutoff()
    case, contact, venue, actor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    old = [visit(case, venue, cutoff - timedelta(days=3)), visit(contact, venue, cutoff - timedelta(days=3))]
    fresh = [visit(case, venue, now - timedelta(hours=2)), visit(contact, venue, now - timedelta(hours=2))]
    old_day = old[0].checked_in_at.date()
    # Stored behind ingestion's back (it refuses stale rows), as if upkeep had not run yet.
    await Store(pool).checkins.write(
        old + fresh, [], partitions=sorted({r.checked_in_at.date() for r in old + fresh})
    )
    async with pool.acquire() as conn:
        # An audit record as old as the dropped check-ins, and one older than any retention.
        for age in (timedelta(days=RETENTION_DAYS + 3), timedelta(days=400), timedelta(days=800)):
            await conn.execute(
                "INSERT INTO tracing.audit_log (actor_id, action, count, at) VALUES ($1, 'export', 1, $2)",
                actor,
                now - age,
            )

    # Unreadable even before the upkeep: every read filters by the cutoff.
    # A window reaching an hour past the cutoff, as wide as the service allows.
    start = cutoff - timedelta(hours=1)
    end = start + timedelta(days=RETENTION_DAYS)
    presence = await tracing.presence(actor, venue, start, end)
    own = await tracing.own_visits(case, start, end)
    query = await tracing.contact_query(
        actor,
        QueryParameters(
            person_id=case, from_at=start, to_at=end, dwell_minutes=None, min_overlap_minutes=1, depth=1
        ),
    )
    assert {p.checked_in_at for p in presence} == {r.checked_in_at for r in fresh}
    assert [v.checked_in_at for v in own] == [fresh[0].checked_in_at]
    assert [v.checked_in_at for v in query.case_visits] == [fresh[0].checked_in_at]
    assert [c.person_id for c in query.contacts] == [contact]

    _, dropped = await tracing.maintain()
    async with pool.acquire() as conn:
        partitions = await partition_names(pool)
        oldest = await conn.fetchval("SELECT min(checked_in_at) FROM tracing.checkins")
        audit_ages = await conn.fetch(
            "SELECT at FROM tracing.audit_log WHERE actor_id = $1 AND action = 'export'", actor
        )

    assert f"checkins_p{old_day:%Y%m%d}" in dropped
    assert f"checkins_p{old_day:%Y%m%d}" not in partitions
    assert oldest >= cutoff
    # The audit log outlives the check-ins it describes, for its own (longer) period: 730 days.
    ages = sorted((now - r["at"]).days for r in audit_ages)
    assert ages == [RETENTION_DAYS + 3, 400], ages


def test_audit_retention_is_a_setting_longer_than_checkin_retention() -> None:
    fields = Settings.model_fields
    name = next(n for n in fields if n.startswith("audit") and "retention" in n)
    assert fields[name].default > fields["retention_days"].default


async def test_reading_a_stored_contact_query_is_audited(infra: InfraSettings, serve: Serve) -> None:
    from services.tracing.app import create_app

    epidemiologist = uuid.uuid4()
    tokens = AccessTokens(load_keys(infra).jwt, infra.jwt_audience, 600)
    headers = {"Authorization": f"Bearer {tokens.issue(epidemiologist, ['epidemiologist'])}"}
    operator = {"Authorization": f"Bearer {tokens.issue(uuid.uuid4(), ['operator'])}"}
    now = datetime.now(UTC)
    async with serve(create_app(Settings(infra=infra))) as client:
        made = await client.post(
            "/api/tracing/v1/contact-queries",
            json={
                "person_id": str(uuid.uuid4()),
                "from": (now - timedelta(hours=1)).isoformat(),
                "to": now.isoformat(),
            },
            headers=headers,
        )
        assert made.status_code == 201, made.text
        query_id = made.json()["query_id"]
        shown = await client.get(f"/api/tracing/v1/contact-queries/{query_id}", headers=headers)
        assert shown.status_code == 200
        audit = await client.get(
            "/api/tracing/v1/audit",
            params={"from": (now - timedelta(hours=1)).isoformat()},
            headers=operator,
        )
    actions = [e["action"] for e in audit.json()["entries"] if e["query_id"] == query_id]
    assert len(actions) >= 2, actions  # the query itself, and the read of it

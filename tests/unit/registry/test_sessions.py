"""The refresh-token rules on a dict-backed store: rotation, reuse, expiry, sign-out (issue 16)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from services.registry.errors import RefreshTokenRefused, RefreshTokenReused
from services.registry.models import RefreshTokenRow
from services.registry.sessions import KEEP_AFTER_END, TOKEN_MAX_CHARS, RevokeReason, Sessions, digest

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LIFETIME = timedelta(days=30)


@dataclass
class Family:
    person_id: UUID
    revoked_at: datetime | None = None
    reason: RevokeReason | None = None


class FakeStore:
    """``store.sessions`` over dicts; a unit's writes land at once (one task, no interleaving)."""

    def __init__(self) -> None:
        self.families: dict[UUID, Family] = {}
        self.tokens: dict[bytes, RefreshTokenRow] = {}

    @property
    def sessions(self) -> FakeStore:
        return self

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[FakeStore]:
        yield self

    async def token(self, token_digest: bytes) -> RefreshTokenRow | None:
        row = self.tokens.get(token_digest)
        if row is None:
            return None
        return replace(row, family_revoked_at=self.families[row.family_id].revoked_at)

    async def add_token(
        self, family_id: UUID, token_digest: bytes, issued_at: datetime, expires_at: datetime
    ) -> None:
        person = self.families[family_id].person_id
        assert not [t for t in self.tokens.values() if t.family_id == family_id and t.rotated_at is None]
        self.tokens[token_digest] = RefreshTokenRow(
            token_digest, family_id, person, issued_at, expires_at, None, None
        )

    async def mark_rotated(self, token_digest: bytes, at: datetime) -> None:
        self.tokens[token_digest] = replace(self.tokens[token_digest], rotated_at=at)

    async def revoke_family(self, family_id: UUID, at: datetime, reason: RevokeReason) -> None:
        family = self.families[family_id]
        if family.revoked_at is None:
            family.revoked_at, family.reason = at, reason

    async def add_family(self, family_id: UUID, person_id: UUID, created_at: datetime) -> None:
        assert family_id not in self.families
        self.families[family_id] = Family(person_id)

    async def revoke_person(self, person_id: UUID, at: datetime, reason: RevokeReason) -> int:
        live = [f for f in self.families.values() if f.person_id == person_id and f.revoked_at is None]
        for family in live:
            family.revoked_at, family.reason = at, reason
        return len(live)

    async def forget_ended(self, before: datetime) -> int:
        ended = [k for k, f in self.families.items() if f.revoked_at is not None and f.revoked_at < before]
        for key in ended:
            del self.families[key]
        gone = [
            k for k, t in self.tokens.items() if t.family_id not in self.families or t.expires_at < before
        ]
        for key in gone:
            del self.tokens[key]
        return len(ended) + len(gone)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def sessions(store: FakeStore, clock: Clock) -> Sessions:
    return Sessions(store, LIFETIME, clock)


async def test_a_sign_in_starts_a_family_with_one_token_stored_as_its_digest(sessions, store) -> None:
    person = uuid.uuid4()
    issued = await sessions.start(person)
    assert issued.person_id == person
    assert issued.expires_at == T0 + LIFETIME
    assert issued.expires_in(T0) == 30 * 24 * 3600
    assert list(store.tokens) == [digest(issued.refresh_token)]
    assert issued.refresh_token.encode() not in b"".join(store.tokens)


async def test_each_refresh_rotates_and_slides_the_30_days(sessions, store, clock) -> None:
    person = uuid.uuid4()
    first = await sessions.start(person)
    clock.now = T0 + timedelta(days=29)
    second = await sessions.rotate(first.refresh_token)
    assert (second.person_id, second.family_id) == (person, first.family_id)
    assert second.refresh_token != first.refresh_token
    assert second.expires_at == clock.now + LIFETIME
    assert store.tokens[digest(first.refresh_token)].rotated_at == clock.now
    clock.now = T0 + timedelta(days=58)  # still within 30 days of the last use
    third = await sessions.rotate(second.refresh_token)
    assert third.family_id == first.family_id


async def test_the_expiry_bound_both_sides(sessions, clock) -> None:
    just_in = await sessions.start(uuid.uuid4())
    at_end = await sessions.start(uuid.uuid4())
    clock.now = T0 + LIFETIME - timedelta(microseconds=1)
    assert (await sessions.rotate(just_in.refresh_token)).person_id == just_in.person_id
    clock.now = T0 + LIFETIME
    with pytest.raises(RefreshTokenRefused):
        await sessions.rotate(at_end.refresh_token)


async def test_a_reused_token_revokes_the_family_and_the_newest_token_with_it(sessions, store, clock) -> None:
    person = uuid.uuid4()
    stolen = await sessions.start(person)
    other_device = await sessions.start(person)
    newest = await sessions.rotate(stolen.refresh_token)
    clock.now = T0 + timedelta(minutes=5)
    with pytest.raises(RefreshTokenReused):
        await sessions.rotate(stolen.refresh_token)
    family = store.families[stolen.family_id]
    assert (family.revoked_at, family.reason) == (clock.now, "reuse")
    with pytest.raises(RefreshTokenRefused):
        await sessions.rotate(newest.refresh_token)
    # A reuse of a family already revoked is just refused; the revocation keeps its first cause.
    with pytest.raises(RefreshTokenRefused):
        await sessions.rotate(stolen.refresh_token)
    assert store.families[stolen.family_id].reason == "reuse"
    assert (await sessions.rotate(other_device.refresh_token)).family_id == other_device.family_id


async def test_a_rotated_token_that_has_expired_still_counts_as_a_reuse(sessions, store, clock) -> None:
    first = await sessions.start(uuid.uuid4())
    await sessions.rotate(first.refresh_token)
    clock.now = T0 + LIFETIME + timedelta(days=1)
    with pytest.raises(RefreshTokenReused):
        await sessions.rotate(first.refresh_token)


@pytest.mark.parametrize("token", ["", "x" * (TOKEN_MAX_CHARS + 1), "not-a-token"])
async def test_unknown_empty_and_overlong_tokens_are_refused(sessions, token: str) -> None:
    await sessions.start(uuid.uuid4())
    with pytest.raises(RefreshTokenRefused):
        await sessions.rotate(token)


async def test_logout_revokes_this_family_only(sessions, store) -> None:
    person = uuid.uuid4()
    here, there = await sessions.start(person), await sessions.start(person)
    assert await sessions.end(here.refresh_token) == person
    assert store.families[here.family_id].reason == "logout"
    with pytest.raises(RefreshTokenRefused):
        await sessions.rotate(here.refresh_token)
    assert (await sessions.rotate(there.refresh_token)).person_id == person
    assert await sessions.end("unknown") is None
    assert await sessions.end("") is None


async def test_sign_out_everywhere_counts_the_live_families(sessions, store) -> None:
    person, stranger = uuid.uuid4(), uuid.uuid4()
    mine = [await sessions.start(person) for _ in range(3)]
    theirs = await sessions.start(stranger)
    await sessions.end(mine[0].refresh_token)
    assert await sessions.end_everywhere(person) == 2
    assert await sessions.end_everywhere(person) == 0
    for issued in mine:
        with pytest.raises(RefreshTokenRefused):
            await sessions.rotate(issued.refresh_token)
    assert {store.families[i.family_id].reason for i in mine} == {"logout", "logout_everywhere"}
    assert (await sessions.rotate(theirs.refresh_token)).person_id == stranger


async def test_ended_sign_ins_are_forgotten_a_day_later(sessions, store, clock) -> None:
    person = uuid.uuid4()
    ended = await sessions.start(person)
    await sessions.end(ended.refresh_token)
    clock.now = T0 + KEEP_AFTER_END
    assert await sessions.forget_ended() == 0  # a day and not more: kept
    clock.now = T0 + KEEP_AFTER_END + timedelta(seconds=1)
    assert await sessions.forget_ended() == 2
    assert ended.family_id not in store.families

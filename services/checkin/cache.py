"""Every Redis key and command of the checkin service: idempotency keys, caps, who is inside, colours.

Redis here is a help, never a precondition of recording a check-in: every read
and write that a scan makes degrades (``CacheDown``) so that the caller can
carry on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

import orjson

from shared.cache import CACHE_ERRORS, KeySpace, RedisClient, tagged
from shared.colours import (
    UNKNOWN,
    CachedColour,
    WarmMarker,
    colours_from_reads,
    queue_colour_reads,
    read_colours,
)
from shared.ratelimit import RateLimiter, Window

# An answer is replayed for a day: a phone that lost its answer retries within minutes,
# a page that queued a scan offline retries when the network is back, usually the same day.
IDEMPOTENCY_TTL_S = 24 * 3600
# The pending marker outlives the slowest winner (publishing waits at most 5 s, shared.kafka),
# and expires on its own if the winner's process dies mid-request.
PENDING_TTL_S = 30
# A loser waits for the winner's answer at most this long, polling every POLL_S.
WAIT_FOR_WINNER_S = 10.0
POLL_S = 0.05
# Abuse caps per person (issue 5): 30 check-ins in 10 minutes, 300 a day.
CHECKIN_CAPS = (Window(30, 600), Window(300, 86_400))
# Open visits older than this are no longer "inside": tracing caps a visit at 12 hours.
OPEN_VISIT_MAX_S = 12 * 3600

_PENDING = b"pending:"
_DONE = b"done:"

_DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class CacheDown(Exception):
    """Redis could not be reached or answered with an error."""


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming an idempotency key: ours to fill, or the first answer."""

    owned: bool
    answer: dict[str, Any] | None = None
    marker: bytes = b""
    # When an earlier attempt with this key may have reached the broker (Unix seconds): the
    # retry reuses its check-in time, so a late delivery and the retry are the same record.
    first_at: float | None = None
    # The colours of the people to check in, read in the claim's own round trip.
    colours: dict[UUID, CachedColour] = field(default_factory=dict)


class CheckinCache:
    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._keys = KeySpace(prefix, "checkin")
        self._caps = RateLimiter(redis, prefix, "checkin", CHECKIN_CAPS)
        self._warm = WarmMarker(prefix)

    def _idem(self, caller: UUID, key: str) -> str:
        # Hash the client's key: it is free text and must not shape our key space. The caller's
        # hash tag keeps the claim and its attempt time (one script, one pipeline step) in a slot.
        return self._keys("idem", tagged(caller), hashlib.sha256(key.encode()).hexdigest())

    def _attempt(self, caller: UUID, key: str) -> str:
        return self._keys("attempt", tagged(caller), hashlib.sha256(key.encode()).hexdigest())

    def _inside(self, venue_id: UUID) -> str:
        return self._keys("inside", tagged(venue_id))

    async def claim(self, caller: UUID, key: str, person_ids: Sequence[UUID] = ()) -> Claim:
        """Claim a key atomically; a loser waits for the winner's answer, or takes over if it failed.

        The colours of ``person_ids`` ride along in the same round trip, after the claim: a
        reading is harmless to a loser, and saves the winner a round trip of its own.
        """
        name = self._idem(caller, key)
        marker = _PENDING + secrets.token_hex(8).encode()
        deadline = time.monotonic() + WAIT_FOR_WINNER_S
        try:
            while True:
                async with self._redis.pipeline(transaction=False) as pipe:
                    _ = pipe.set(name, marker, nx=True, ex=PENDING_TTL_S)
                    _ = pipe.get(self._attempt(caller, key))
                    if person_ids:
                        queue_colour_reads(pipe, self._prefix, person_ids, self._warm)
                    won, attempted, *colours = await pipe.execute()
                if won:
                    return Claim(
                        owned=True,
                        marker=marker,
                        first_at=float(attempted) if attempted is not None else None,
                        colours=colours_from_reads(person_ids, colours, self._warm) if person_ids else {},
                    )
                current = cast(bytes | None, await self._redis.get(name))
                if current is not None and current.startswith(_DONE):
                    return Claim(owned=False, answer=orjson.loads(current[len(_DONE) :]))
                if time.monotonic() > deadline:
                    return Claim(owned=False)
                if current is not None:
                    await asyncio.sleep(POLL_S)
        except CACHE_ERRORS as exc:
            self._warm.forget()
            raise CacheDown from exc

    async def release(self, caller: UUID, key: str, marker: bytes, attempted_at: float | None = None) -> None:
        """Drop our pending marker (the request failed), so a retry proceeds.

        ``attempted_at``: the check-in time of an attempt whose events may still reach the
        broker (a publish that timed out); the retry will record that same time.
        """
        with contextlib.suppress(*CACHE_ERRORS):  # else it expires after PENDING_TTL_S
            async with self._redis.pipeline(transaction=False) as pipe:
                if attempted_at is not None:
                    _ = pipe.set(
                        self._attempt(caller, key), repr(attempted_at), nx=True, ex=IDEMPOTENCY_TTL_S
                    )
                _ = pipe.eval(_DELETE_IF_EQUAL, 1, self._idem(caller, key), marker)
                await pipe.execute()

    async def count_checkins(self, person_ids: Sequence[UUID], now: float | None = None) -> None:
        """Count one check-in per person against the caps; raises ``RateLimited``."""
        try:
            await self._caps.hit_many([str(p) for p in person_ids], now=now)
        except CACHE_ERRORS as exc:
            raise CacheDown from exc

    async def colours(self, person_ids: Sequence[UUID]) -> dict[UUID, CachedColour]:
        """Every person's colour in one round trip; ``unknown`` for all when Redis cannot be read."""
        try:
            return await read_colours(self._redis, self._prefix, person_ids, self._warm)
        except CACHE_ERRORS:
            return dict.fromkeys(person_ids, UNKNOWN)

    async def enter(
        self,
        venue_id: UUID,
        entries: dict[UUID, float],
        answer: tuple[UUID, str, dict[str, Any]] | None = None,
    ) -> None:
        """Mark people inside a venue (score: check-in time, Unix seconds), and with ``answer``
        (caller, key, body) remember a scan's answer in the same round trip."""
        name = self._inside(venue_id)
        latest = max(entries.values(), default=time.time())
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                # Visits older than OPEN_VISIT_MAX_S have ended on their own: drop them as we go.
                _ = pipe.zremrangebyscore(name, "-inf", latest - OPEN_VISIT_MAX_S)
                _ = pipe.zadd(name, {str(p): at for p, at in entries.items()})
                _ = pipe.expire(name, OPEN_VISIT_MAX_S * 2)
                if answer is not None:
                    caller, key, body = answer
                    _ = pipe.set(self._idem(caller, key), _DONE + orjson.dumps(body), ex=IDEMPOTENCY_TTL_S)
                await pipe.execute()
        except CACHE_ERRORS:
            # A check-in is never refused for this: check-out will not find it, and a replay
            # falls back on the deterministic checkin_id.
            pass

    async def inside(self, venue_id: UUID, person_ids: Sequence[UUID] | None, now: float) -> list[UUID]:
        """Who of ``person_ids`` (None: everyone) has an open visit at the venue."""
        name = self._inside(venue_id)
        oldest = now - OPEN_VISIT_MAX_S
        try:
            if person_ids is None:
                members = cast(list[bytes], await self._redis.zrangebyscore(name, oldest, "+inf"))
                return [UUID(m.decode()) for m in members]
            if not person_ids:
                return []
            scores = await self._redis.zmscore(name, [str(p) for p in person_ids])
        except CACHE_ERRORS as exc:
            raise CacheDown from exc
        return [p for p, s in zip(person_ids, scores, strict=True) if s is not None and s >= oldest]

    async def leave(self, venue_id: UUID, person_ids: Sequence[UUID]) -> None:
        if not person_ids:
            return
        with contextlib.suppress(*CACHE_ERRORS):  # else it ages out after OPEN_VISIT_MAX_S
            await self._redis.zrem(self._inside(venue_id), *[str(p) for p in person_ids])

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
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

import orjson

from services.checkin.lane import Lane, Script
from services.checkin.models import ScanResult, result_json
from shared.cache import CACHE_ERRORS, KeySpace, RedisClient, tagged
from shared.colours import (
    UNKNOWN,
    CachedColour,
    WarmMarker,
    colour_key,
    colours_from_reads,
    read_colours,
)
from shared.errors import RateLimited
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
HOUR_S = 3600
# Closing a venue reads who entered it this many people at a time.
VISIT_PAGE = 500

_PENDING = b"pending:"
_DONE = b"done:"
# A failed attempt that may have reached the broker leaves its check-in time here ("tried:<t>"),
# for the retry: one key per scan, and a claim that reads nothing else.
_TRIED = b"tried:"

_DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


_SWAP_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return false
"""


# One person's part of a scan's claim, in their slot (every key carries their hash tag): their
# colour, their cap windows counted (INCRBY, and EXPIRE when a window starts, as
# shared.ratelimit counts), and when they are the caller the scan's idempotency key claimed
# (SET NX GET). One command instead of three; the reply: what the key held (nil: ours, or not
# claimed here), the colour (nil: none), then each window's count.
# KEYS: colour, the windows, [the idempotency key]. ARGV: cost, marker, its TTL, each window's TTL.
_PERSON_CLAIM = Script("""
local windows = #ARGV - 3
local current = false
if #KEYS == windows + 2 then
  current = redis.call('SET', KEYS[windows + 2], ARGV[2], 'NX', 'GET', 'EX', ARGV[3])
end
local reply = {current, redis.call('GET', KEYS[1])}
for i = 1, windows do
  local count = redis.call('INCRBY', KEYS[i + 1], ARGV[1])
  if count <= tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[i + 1], ARGV[i + 3]) end
  reply[i + 2] = count
end
return reply
""")

# One person's open visit, in their slot: the visit (HSET, EXPIRE), and when they are the caller
# the scan's answer to replay (SET EX). KEYS: visits, [idempotency key]. ARGV: venue, time, the
# visits' TTL, [answer, its TTL].
_PERSON_ENTER = Script("""
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if KEYS[2] then redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5]) end
return 1
""")

# Who entered a venue in one hour: the members added, the index's TTL set. KEYS: the index.
# ARGV: its TTL, then the people.
_INDEX_ENTER = Script("""
redis.call('SADD', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
""")


class CacheDown(Exception):
    """Redis could not be reached or answered with an error."""


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming an idempotency key: ours to fill, or the first answer."""

    owned: bool
    answer: dict[str, Any] | None = None
    marker: bytes = b""
    # When an earlier attempt with this key may have reached the broker (Unix seconds): the
    # retry reuses its check-in time, so a late delivery and the retry are the same record
    # (and releases with it again, should it fail too).
    first_at: float | None = None
    # The colours of the people to check in, read in the claim's own round trip.
    colours: dict[UUID, CachedColour] = field(default_factory=dict)
    # A full cap window of one of them, counted in the same round trip: raised by the caller
    # once the venue and the people were checked (a rule's answer comes first).
    refused: RateLimited | None = None


class CheckinCache:
    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._keys = KeySpace(prefix, "checkin")
        self._caps = RateLimiter(redis, prefix, "checkin", CHECKIN_CAPS)
        self._warm = WarmMarker(prefix)
        # The scan's two round trips (the claim, the after-answer write) share pipelines with
        # the other scans of the moment; the rarer commands below go on their own.
        self._lane = Lane(redis)

    def _idem(self, caller: UUID, key: str) -> str:
        # Hash the client's key: it is free text and must not shape our key space. The caller's
        # hash tag puts it in the caller's slot.
        return self._keys("idem", tagged(caller), hashlib.sha256(key.encode()).hexdigest())

    def _visits(self, person_id: UUID) -> str:
        # A person's open visits, venue -> check-in time: a few fields, never a giant key.
        return self._keys("visits", tagged(person_id))

    def _entered(self, venue_id: UUID, at: float) -> str:
        # Who entered a venue in one hour: the index that closing pages through. The hour is in
        # the hash tag, so a railway station's day spreads over many slots.
        return self._keys("entered", tagged(f"{venue_id}:{int(at // HOUR_S)}"))

    async def claim(
        self, caller: UUID, key: str, person_ids: Sequence[UUID] = (), now: float | None = None
    ) -> Claim:
        """Claim a key atomically; a loser waits for the winner's answer, or takes over if it failed.

        One round trip for the winner: the claim, the caps of ``person_ids`` (counted once, even
        for a loser: a replay counts as an attempt, but a loser is never refused) and their
        colours (a reading is harmless to a loser).
        """
        name = self._idem(caller, key)
        marker = _PENDING + secrets.token_hex(8).encode()
        moment = time.time() if now is None else now
        subjects = [str(p) for p in person_ids]
        # The claim rides on the caller's own script when they check in too (the usual scan).
        alone = caller not in person_ids
        reads_marker = bool(person_ids) and self._warm.due()
        ttls = [w.seconds + 1 for w in CHECKIN_CAPS]

        def queue(pipe: Any) -> None:
            if alone:  # SET NX GET: None when we set it, else what the key holds (one command).
                _ = pipe.set(name, marker, nx=True, ex=PENDING_TTL_S, get=True)
            if reads_marker:
                _ = pipe.exists(self._warm.key)
            for person_id, subject in zip(person_ids, subjects, strict=True):
                keys = [colour_key(self._prefix, person_id)]
                keys += [self._caps.key(subject, w, moment) for w in CHECKIN_CAPS]
                if person_id == caller:
                    keys.append(name)
                self._lane.script(pipe, _PERSON_CLAIM, keys, [1, marker, PENDING_TTL_S, *ttls])

        try:
            replies = _replies(await self._lane.send(queue))
            current = replies.pop(0) if alone else None
            marker_read = [replies.pop(0)] if reads_marker else []
            for person_id, (held, *_) in zip(person_ids, replies, strict=True):
                if person_id == caller:
                    current = held
            reads = marker_read + [reply[1] for reply in replies]
            colours = colours_from_reads(person_ids, reads, self._warm) if person_ids else {}
            refused = self._caps.refused(subjects, [reply[2:] for reply in replies], moment)
            # Our own marker: the client re-sent the SET NX after losing its first answer (a
            # cluster failover), and the first one had won.
            if current is None or current == marker:
                return Claim(owned=True, marker=marker, colours=colours, refused=refused)
            first_at = await self._take_over(name, cast(bytes, current), marker)
            if first_at is not None:
                return Claim(owned=True, marker=marker, first_at=first_at, colours=colours, refused=refused)
            return await self._wait_for_winner(name, marker, cast(bytes, current), colours)
        except CACHE_ERRORS as exc:
            self._warm.forget()
            raise CacheDown from exc

    async def _wait_for_winner(
        self, name: str, marker: bytes, current: bytes | None, colours: dict[UUID, CachedColour]
    ) -> Claim:
        """Poll the key until the winner's answer is there, or its claim is gone or left a time
        to reuse (then claim it, with the colours read a moment ago)."""
        deadline = time.monotonic() + WAIT_FOR_WINNER_S
        while True:
            if current is not None and current.startswith(_DONE):
                return Claim(owned=False, answer=orjson.loads(current[len(_DONE) :]))
            if time.monotonic() > deadline:
                return Claim(owned=False)
            if current is not None:
                await asyncio.sleep(POLL_S)
            current = cast(
                bytes | None, await self._redis.set(name, marker, nx=True, ex=PENDING_TTL_S, get=True)
            )
            # The winner failed and let go: ours now (our first try counted the caps).
            if current is None or current == marker:
                return Claim(owned=True, marker=marker, colours=colours)
            first_at = await self._take_over(name, current, marker)
            if first_at is not None:
                return Claim(owned=True, marker=marker, first_at=first_at, colours=colours)

    async def _take_over(self, name: str, current: bytes, marker: bytes) -> float | None:
        """An earlier attempt failed after it may have reached the broker: take its place (unless
        another retry just did) and its check-in time."""
        if not current.startswith(_TRIED):
            return None
        if not await self._redis.eval(_SWAP_IF_EQUAL, 1, name, current, marker, PENDING_TTL_S):
            return None
        return float(current[len(_TRIED) :])

    async def release(self, caller: UUID, key: str, marker: bytes, attempted_at: float | None = None) -> None:
        """Drop our pending marker (the request failed), so a retry proceeds.

        ``attempted_at``: the check-in time of an attempt whose events may have reached the
        broker (a publish that timed out, or an earlier such attempt this one took over from);
        it stays in the key for a day, and the retry records that same time.
        """
        name = self._idem(caller, key)
        with contextlib.suppress(*CACHE_ERRORS):  # else it expires after PENDING_TTL_S
            if attempted_at is None:
                await self._redis.eval(_DELETE_IF_EQUAL, 1, name, marker)
            else:
                tried = _TRIED + repr(attempted_at).encode()
                await self._redis.eval(_SWAP_IF_EQUAL, 1, name, marker, tried, IDEMPOTENCY_TTL_S)

    async def colours(self, person_ids: Sequence[UUID]) -> dict[UUID, CachedColour]:
        """Every person's colour in one round trip; ``unknown`` for all when Redis cannot be read."""
        try:
            return await read_colours(self._redis, self._prefix, person_ids, self._warm)
        except CACHE_ERRORS:
            return dict.fromkeys(person_ids, UNKNOWN)

    def enter(
        self,
        venue_id: UUID,
        entries: dict[UUID, float],
        answer: tuple[UUID, str, ScanResult] | None = None,
    ) -> Awaitable[object]:
        """Mark people inside a venue (their check-in time, Unix seconds), and with ``answer``
        (caller, key, result) remember a scan's answer in the same round trip.

        Queued at once on the next shared pipeline (lane.py), which leaves on a later turn of the
        event loop: after the answer that the caller is about to send, and with no task of its
        own. The answer's JSON is made when the pipeline leaves, not before the answer. What is
        returned completes when the write is done and never fails: an error reply or a down
        Redis drops the write (a check-in is never refused for this, check-out will not find
        it, and a replay falls back on the deterministic checkin_id).
        """

        def queue(pipe: Any) -> None:
            caller = answer[0] if answer is not None else None
            indexes: dict[str, list[str]] = {}
            for person_id, at in entries.items():
                keys, args = [self._visits(person_id)], [str(venue_id), repr(at), OPEN_VISIT_MAX_S * 2]
                if person_id == caller and answer is not None:  # the caller's slot: one script
                    keys.append(self._idem(caller, answer[1]))
                    args += [_DONE + result_json(answer[2]), IDEMPOTENCY_TTL_S]
                self._lane.script(pipe, _PERSON_ENTER, keys, args)
                indexes.setdefault(self._entered(venue_id, at), []).append(str(person_id))
            for index, people in indexes.items():
                self._lane.script(pipe, _INDEX_ENTER, [index], [OPEN_VISIT_MAX_S + 2 * HOUR_S, *people])
            if answer is not None and answer[0] not in entries:
                caller_alone, key, result = answer
                _ = pipe.set(self._idem(caller_alone, key), _DONE + result_json(result), ex=IDEMPOTENCY_TTL_S)

        return self._lane.send(queue, quiet=True)

    async def aclose(self) -> None:
        """Close the shared pipelines' own connections (at shutdown, after the last write)."""
        await self._lane.aclose()

    async def inside(self, venue_id: UUID, person_ids: Sequence[UUID], now: float) -> list[UUID]:
        """Who of ``person_ids`` has an open visit at the venue (one HGET each, one round trip)."""
        if not person_ids:
            return []
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for person_id in person_ids:
                    _ = pipe.hget(self._visits(person_id), str(venue_id))
                times = await pipe.execute()
        except CACHE_ERRORS as exc:
            raise CacheDown from exc
        oldest = now - OPEN_VISIT_MAX_S
        return [p for p, at in zip(person_ids, times, strict=True) if at is not None and float(at) >= oldest]

    async def everyone_inside(self, venue_id: UUID, now: float) -> AsyncIterator[list[UUID]]:
        """Everyone with an open visit at the venue, a page at a time: SSCAN through the hourly
        entry sets of the last OPEN_VISIT_MAX_S, each page checked against the people's own open
        visits. No command reads more than VISIT_PAGE members, however full the venue."""
        first_hour = int((now - OPEN_VISIT_MAX_S) // HOUR_S)
        for hour in range(first_hour, int(now // HOUR_S) + 1):
            index, cursor = self._entered(venue_id, hour * HOUR_S), 0
            while True:
                try:
                    cursor, members = await self._redis.sscan(index, cursor, count=VISIT_PAGE)
                except CACHE_ERRORS as exc:
                    raise CacheDown from exc
                candidates = unique_ids(members)
                if candidates:
                    yield await self.inside(venue_id, candidates, now)
                if cursor == 0:
                    break

    async def leave(self, venue_id: UUID, person_ids: Sequence[UUID]) -> None:
        if not person_ids:
            return
        with contextlib.suppress(*CACHE_ERRORS):  # else it ages out after OPEN_VISIT_MAX_S
            async with self._redis.pipeline(transaction=False) as pipe:
                for person_id in person_ids:
                    _ = pipe.hdel(self._visits(person_id), str(venue_id))
                await pipe.execute()


def _replies(results: list[Any]) -> list[Any]:
    """One scan's results from a shared pipeline; an error reply fails that scan as a down Redis."""
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def unique_ids(members: Sequence[bytes | str]) -> list[UUID]:
    """SSCAN may return a member twice: each person once, in order."""
    return list(dict.fromkeys(UUID(m.decode() if isinstance(m, bytes) else m) for m in members))

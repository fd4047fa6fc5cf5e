"""Assisted lookup (老幼助查): a companion sees the colour of an elderly person or a child by name and ID."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from uuid import UUID
from zoneinfo import ZoneInfo

from services.status.errors import LookupAgeRefused, LookupNoMatch
from services.status.models import LookupResult, Shown
from services.status.service import StatusService
from services.status.store import Store
from shared.errors import InvalidValue, RateLimited
from shared.pii import InvalidIdentity, Vault, age_on, birth_date_of, validate_identity
from shared.ratelimit import RateLimiter

# The policy's age bands (API.md): 60 or over, or 16 or under, on the day asked.
ELDERLY_FROM = 60
CHILD_UP_TO = 16


@dataclass(frozen=True)
class LookupAnswer:
    masked_name: str
    shown: Shown


def may_be_looked_up(age: int) -> bool:
    return age >= ELDERLY_FROM or age <= CHILD_UP_TO


class AssistedLookup:
    """Matches a name and mainland ID by digests only: status never holds either value."""

    def __init__(
        self, store: Store, status: StatusService, vault: Vault, limiter: RateLimiter, timezone: str
    ) -> None:
        self._store = store
        self._status = status
        self._vault = vault
        self._limiter = limiter
        self._zone = ZoneInfo(timezone)

    async def lookup(self, caller: UUID, name: str, id_number: str) -> LookupAnswer:
        now = self._status.clock.now()
        audit = self._store.audit_lookup
        try:
            await self._limiter.hit(str(caller), now=now.timestamp())
        except RateLimited:
            await audit(caller, None, None, LookupResult.RATE_LIMITED, now)
            raise
        today = now.astimezone(self._zone).date()
        try:
            number = validate_identity("mainland_id", id_number, today)
        except InvalidIdentity as exc:
            await audit(caller, None, None, LookupResult.INVALID_NUMBER, now)
            raise InvalidValue("id_number", f"only a mainland resident ID can be looked up: {exc}") from exc
        digest = self._vault.id_digest("mainland_id", number)
        born = birth_date_of("mainland_id", number)
        assert born is not None  # a valid mainland ID always carries a birth date
        if not may_be_looked_up(age_on(born, today)):
            await audit(caller, digest, None, LookupResult.AGE_REFUSED, now)
            raise LookupAgeRefused()
        name_digest = self._vault.name_digest(name)
        match = next(
            (
                p
                for p in await self._store.people_with_id_digest(digest)
                if p.id_kind == "mainland_id" and hmac.compare_digest(p.name_digest, name_digest)
            ),
            None,
        )
        if match is None:
            await audit(caller, digest, None, LookupResult.NOT_FOUND, now)
            raise LookupNoMatch()
        shown = await self._status.shown(match.person_id, match.registered_at)
        await audit(caller, digest, match.person_id, LookupResult.FOUND, now)
        return LookupAnswer(match.masked_name, shown)

"""Health codes: dynamic and paper tokens for a person or their dependent, and inspector verification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from services.status.errors import (
    ForgedToken,
    NotAnInspector,
    NotYourCode,
    TokenExpired,
    TokenRevoked,
    UnknownPerson,
)
from services.status.models import Dependent, Shown, TokenKind, VerifyResult
from services.status.service import StatusService
from services.status.store import Store
from shared.tokens import InvalidToken, TokenSigner

# What a code shows for a person the registry has not told us about yet.
UNKNOWN_MASK = "*"


@dataclass(frozen=True)
class HealthCode:
    person_id: UUID
    masked_name: str
    shown: Shown
    token: str
    token_expires_at: datetime


@dataclass(frozen=True)
class PaperCode:
    person_id: UUID
    masked_name: str
    token: str
    serial: int


@dataclass(frozen=True)
class Verified:
    person_id: UUID
    masked_name: str
    masked_id: str
    shown: Shown
    token_kind: TokenKind


class HealthCodes:
    """Issues health-code tokens to their holders and resolves them for inspectors."""

    def __init__(self, store: Store, status: StatusService, signer: TokenSigner, ttl_s: int) -> None:
        self._store = store
        self._status = status
        self._signer = signer
        self._ttl_s = ttl_s

    async def dependents(self, guardian: UUID) -> list[Dependent]:
        """Whose codes a guardian may show besides their own."""
        return await self._store.dependents_of(guardian)

    async def _authorise(self, caller: UUID, person_id: UUID) -> None:
        if person_id != caller and not await self._store.guards(caller, person_id):
            raise NotYourCode()

    async def health_code(self, caller: UUID, person_id: UUID) -> HealthCode:
        await self._authorise(caller, person_id)
        person = await self._store.person(person_id)
        shown = await self._status.shown(person_id, person.registered_at if person else None)
        now = self._status.clock.now()
        token, expires = self._signer.health_code(person_id, now=now.timestamp(), ttl_s=self._ttl_s)
        masked = person.masked_name if person else UNKNOWN_MASK
        return HealthCode(person_id, masked, shown, token, datetime.fromtimestamp(expires, UTC))

    async def paper_code(self, caller: UUID, person_id: UUID) -> PaperCode:
        """A new paper code; its serial replaces (revokes) every earlier card of this person."""
        await self._authorise(caller, person_id)
        person = await self._store.person(person_id)
        serial = await self._status.issue_paper_serial(person_id, caller)
        token = self._signer.paper_code(person_id, serial)
        return PaperCode(person_id, person.masked_name if person else UNKNOWN_MASK, token, serial)

    async def verify(self, inspector: UUID, token: str) -> Verified:
        """Resolve a shown code to masked identity and current colour; every outcome is audited."""
        if not await self._store.is_inspector(inspector):
            raise NotAnInspector()
        now = self._status.clock.now()
        try:
            claim = self._signer.open_health_code(token.strip())
        except InvalidToken as exc:
            await self._store.audit_verify(inspector, None, None, VerifyResult.FORGED, now)
            raise ForgedToken() from exc
        person_id, kind = claim.person_id, claim.kind
        if kind == "dynamic" and (claim.expires_at or 0) <= now.timestamp():
            await self._store.audit_verify(inspector, person_id, kind, VerifyResult.EXPIRED, now)
            raise TokenExpired()
        if kind == "paper" and claim.paper_serial != await self._store.paper_serial(person_id):
            await self._store.audit_verify(inspector, person_id, kind, VerifyResult.REVOKED, now)
            raise TokenRevoked()
        person = await self._store.person(person_id)
        if person is None:
            await self._store.audit_verify(inspector, person_id, kind, VerifyResult.UNKNOWN_PERSON, now)
            raise UnknownPerson()
        shown = await self._status.shown(person_id, person.registered_at)
        await self._store.audit_verify(inspector, person_id, kind, VerifyResult.SHOWN, now)
        return Verified(person_id, person.masked_name, person.masked_id, shown, kind)

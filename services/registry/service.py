"""The rules about people: accounts, sign-in and staff roles.

Family links are in ``family.py``; venues, declaration codes and inspectors in ``venues.py``;
all publish through the outbox.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import get_args
from uuid import UUID

from services.registry.errors import (
    IdentityAlreadyRegistered,
    NameDoesNotMatch,
    PersonNotFound,
    WrongCredentials,
)
from services.registry.identity import IdentityVerifier
from services.registry.models import RELATION_MAX, RELATIONS, Person
from services.registry.passwords import Passwords
from services.registry.store import Store, Unit
from shared.auth import AccessTokens
from shared.cache import CACHE_ERRORS
from shared.errors import InvalidValue, Unavailable
from shared.events import (
    REGISTRY_TOPIC,
    IdKind,
    PersonRegistered,
    PersonRegisteredData,
    RoleGranted,
    RoleGrantedData,
    StaffRole,
)
from shared.ids import uuid7
from shared.outbox import Outbox
from shared.pii import Vault, birth_date_of, mask_id, mask_name, normalise_id, normalise_name
from shared.ratelimit import RateLimiter

log = logging.getLogger("venuecode.registry")
ID_KINDS: tuple[IdKind, ...] = get_args(IdKind)
STAFF_ROLES: tuple[StaffRole, ...] = get_args(StaffRole)
# Names on Chinese IDs are short, but transliterated passport names run long; 64 fits both.
NAME_MAX = 64
PHONE = re.compile(r"\+?[0-9]{6,15}")  # E.164 allows 15 digits; 6 covers short local numbers
PASSWORD_MIN, PASSWORD_MAX = 8, 128  # NIST SP 800-63B: at least 8, allow at least 64


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    expires_in: int
    person_id: UUID
    roles: list[str]


def clean_name(name: str, field: str = "name") -> str:
    value = normalise_name(name)
    if not value:
        raise InvalidValue(field, "a name is needed")
    if len(value) > NAME_MAX:
        raise InvalidValue(field, f"a name has at most {NAME_MAX} characters")
    if not value.isprintable():
        raise InvalidValue(field, "a name holds only printable characters")
    return value


def clean_phone(phone: str) -> str:
    value = re.sub(r"[\s\-()]", "", phone)
    if not PHONE.fullmatch(value):
        raise InvalidValue("phone", "a phone number is 6 to 15 digits, optionally after +")
    return value


def check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidValue("password", f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters")


def clean_relation(relation: str) -> str:
    value = normalise_name(relation)
    if value.lower() in RELATIONS:
        return value.lower()
    if not value or len(value) > RELATION_MAX:
        raise InvalidValue("relation", f"one of {', '.join(RELATIONS)}, or up to {RELATION_MAX} characters")
    return value


def person_registered(
    person_id: UUID, kind: IdKind, number: str, name: str, vault: Vault
) -> PersonRegistered:
    """The event of a new person: digests and masks only, never the name or the number."""
    return PersonRegistered(
        data=PersonRegisteredData(
            person_id=person_id,
            id_kind=kind,
            birth_date=birth_date_of(kind, number),
            masked_name=mask_name(name),
            masked_id=mask_id(number),
            id_digest=vault.id_digest(kind, number),
            name_digest=vault.name_digest(name),
        )
    )


async def insert_person(
    unit: Unit,
    vault: Vault,
    kind: IdKind,
    number: str,
    name: str,
    *,
    phone: str | None = None,
    password_hash: str | None = None,
) -> Person | None:
    """Store a new person (an account, or a family member without one): the number encrypted.
    None when a concurrent request registered this identity first."""
    return await unit.people.insert(
        person_id=uuid7(),
        id_kind=kind,
        id_cipher=vault.encrypt(number),
        id_digest=vault.id_digest(kind, number),
        masked_id=mask_id(number),
        name=name,
        masked_name=mask_name(name),
        name_digest=vault.name_digest(name),
        birth_date=birth_date_of(kind, number),
        phone=phone,
        password_hash=password_hash,
    )


async def grant_role(
    store: Store, outbox: Outbox, person_id: UUID, role: StaffRole, granted_by: UUID | None
) -> None:
    """Grant a staff role (an operator's API call or ``venuecode grant-role``); announced when new."""
    if role not in STAFF_ROLES:
        raise InvalidValue("role", f"one of {', '.join(STAFF_ROLES)}")
    async with store.unit() as unit:
        if await unit.people.by_id(person_id) is None:
            raise PersonNotFound("No person has this id.")
        if not await unit.people.grant_role(person_id, role, granted_by):
            return
        event = RoleGranted(data=RoleGrantedData(person_id=person_id, role=role, granted_by=granted_by))
        staged = await unit.stage(REGISTRY_TOPIC, str(person_id).encode(), [event])
    await outbox.send(staged)


class PeopleService:
    def __init__(
        self,
        *,
        store: Store,
        vault: Vault,
        verifier: IdentityVerifier,
        passwords: Passwords,
        outbox: Outbox,
        login_failures: RateLimiter,
        tokens: AccessTokens,
    ) -> None:
        self._store = store
        self._vault = vault
        self._verifier = verifier
        self._passwords = passwords
        self._outbox = outbox
        self._login_failures = login_failures
        self._tokens = tokens

    async def register_account(
        self, name: str, kind: IdKind, number: str, phone: str, password: str
    ) -> Person:
        name = clean_name(name)
        phone = clean_phone(phone)
        check_password(password)
        number = await self._verifier.verify(kind, number, name)
        password_hash = await self._passwords.hash(password)
        digest = self._vault.id_digest(kind, number)
        async with self._store.unit() as unit:
            existing = await unit.people.by_digest(digest, for_update=True)
            if existing is not None:
                # A family member added by a guardian may later open their own account.
                if existing.password_hash is not None:
                    raise IdentityAlreadyRegistered("An account with this identity exists already.")
                if existing.name_digest != self._vault.name_digest(name):
                    raise NameDoesNotMatch("This identity is registered under another name.")
                await unit.people.open_account(existing.person_id, phone, password_hash)
                return existing
            person = await insert_person(
                unit, self._vault, kind, number, name, phone=phone, password_hash=password_hash
            )
            if person is None:  # registered by a concurrent request since the read above
                raise IdentityAlreadyRegistered("An account with this identity exists already.")
            registered = person_registered(person.person_id, kind, number, name, self._vault)
            staged = await unit.stage(REGISTRY_TOPIC, str(person.person_id).encode(), [registered])
        await self._outbox.send(staged)
        log.info("account registered", extra={"person_id": str(person.person_id), "id_kind": kind})
        return person

    async def sign_in(self, number: str, password: str) -> SignedIn:
        """An access token for the account with this number and password; 401 otherwise.

        The number alone does not say its document kind, so every kind's digest is looked up.
        Failures count per identity (the keyed digest of the number), and a full window refuses
        even the right password, so a locked-out guesser learns nothing. The attempt is counted
        before it is judged and a success gives it back: a burst of concurrent guesses cannot all
        pass a check before the first failure is counted (tests/security/test_abuse.py).
        """
        digests = [self._vault.id_digest(kind, number) for kind in ID_KINDS]
        subject = self._vault.id_digest("mainland_id", normalise_id(number))
        attempted_at = time.time()
        await self._count_failures(subject, hit=True, now=attempted_at)
        accounts = await self._store.people.accounts_by_digests(digests)
        found: Person | None = None
        for account in accounts:
            if await self._passwords.verify(account.password_hash, password):
                found = account
                break
        if not accounts:
            await self._passwords.verify(None, password)
        if found is None:
            raise WrongCredentials("The identity number or the password is wrong.")
        await self._count_failures(subject, hit=False, now=attempted_at)
        roles = await self._store.people.roles_of(found.person_id)
        token = self._tokens.issue(found.person_id, roles)
        return SignedIn(token, self._tokens.ttl_s, found.person_id, roles)

    async def _count_failures(self, subject: str, *, hit: bool, now: float) -> None:
        """``hit`` reserves an attempt (429 when the window is full); otherwise give it back."""
        # Without Redis the lock cannot be enforced, so sign-in fails closed (503), never open.
        try:
            if hit:
                await self._login_failures.hit(subject, now=now)
            else:
                await self._login_failures.release(subject, now=now)
        except CACHE_ERRORS as exc:
            raise Unavailable("Sign-in is unavailable for a moment; retry shortly.") from exc

    async def grant_role(self, person_id: UUID, role: StaffRole, granted_by: UUID | None) -> None:
        await grant_role(self._store, self._outbox, person_id, role, granted_by)

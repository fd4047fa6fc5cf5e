"""Identity proofing behind one interface; here only the document formats can be checked.

Real-name proofing against the province's identity service (does this number belong to this
name?) and face verification against the photo on file are NOT done by venuecode: neither service
is reachable from here. ``FormatOnlyVerifier`` checks the number's format, check digit and birth
date through ``shared.pii``; a deployment plugs in a verifier that calls the real service.
"""

from __future__ import annotations

from typing import Protocol

from shared.errors import InvalidValue
from shared.events import IdKind
from shared.pii import InvalidIdentity, validate_identity


class IdentityVerifier(Protocol):
    async def verify(self, kind: IdKind, number: str, name: str) -> str:
        """The normalised number when the identity is accepted; raises ``InvalidValue`` otherwise."""
        ...


class FormatOnlyVerifier:
    """Accepts every number whose document format is valid; proves nothing about the person.

    It does not ask the province's identity service whether the name and number belong
    together, and it does no face verification.
    """

    async def verify(self, kind: IdKind, number: str, name: str) -> str:
        return self.check(kind, number)

    def check(self, kind: IdKind, number: str) -> str:
        """The normalised number if its format is valid; ``InvalidValue`` naming ``id_number``."""
        try:
            return validate_identity(kind, number)
        except InvalidIdentity as exc:
            raise InvalidValue("id_number", str(exc)) from exc

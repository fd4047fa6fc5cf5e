"""Signed venue tokens and health-code tokens, verifiable offline with a public key.

A token is ``payload || Ed25519 signature`` in unpadded RFC 4648 base32:
upper-case letters and digits only, so keyboard-wedge scanners type it
faithfully and QR codes hold it in their compact alphanumeric mode. The
payload is a kind byte, the signing key's 4-byte id (keys can rotate), and the
fields. Decoding accepts only the canonical text, so any changed character,
including the spare bits of the last one, is rejected.
"""

from __future__ import annotations

import base64
import binascii
import struct
import time
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from cryptography.exceptions import InvalidSignature

from shared.keys import SigningKeys

_VENUE, _DYNAMIC, _PAPER = b"V", b"H", b"P"
_HEADER = struct.Struct(">c4s16sI")  # kind, key id, uuid, one 32-bit number
_SIGNATURE_BYTES = 64
# 60 s: long enough to show the code at a door, short enough that a screenshot
# sent to someone else has expired by the time it could be used.
HEALTH_CODE_TTL_S = 60


class InvalidToken(ValueError):
    """Not a token we signed: tampered, truncated or signed by an unknown key."""


@dataclass(frozen=True)
class VenueClaim:
    venue_id: UUID
    poster_version: int


@dataclass(frozen=True)
class HealthCodeClaim:
    person_id: UUID
    kind: Literal["dynamic", "paper"]
    # Unix seconds when a dynamic code expires; the serial of a paper code (it
    # lasts until a newer serial revokes it).
    expires_at: int | None
    paper_serial: int | None


def _encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def _decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 8)
    try:
        raw = base64.b32decode(padded)
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("not base32") from exc
    if _encode(raw) != text:  # spare bits set, lower case, or padding: not what we issued
        raise InvalidToken("not canonical")
    return raw


class TokenSigner:
    """Signs and verifies both kinds of token with the token keys."""

    def __init__(self, keys: SigningKeys) -> None:
        self._keys = keys

    def _sign(self, kind: bytes, ident: UUID, number: int) -> str:
        payload = _HEADER.pack(kind, self._keys.kid, ident.bytes, number)
        return _encode(payload + self._keys.private.sign(payload))

    def _open(self, token: str, kinds: tuple[bytes, ...]) -> tuple[bytes, UUID, int]:
        if not 0 < len(token) <= 200:
            raise InvalidToken("wrong length")
        raw = _decode(token)
        if len(raw) != _HEADER.size + _SIGNATURE_BYTES:
            raise InvalidToken("wrong length")
        payload, signature = raw[: _HEADER.size], raw[_HEADER.size :]
        kind, kid, ident, number = _HEADER.unpack(payload)
        if kind not in kinds:
            raise InvalidToken("wrong kind of token")
        key = self._keys.verifier(kid)
        if key is None:
            raise InvalidToken("signed by an unknown key")
        try:
            key.verify(signature, payload)
        except InvalidSignature as exc:
            raise InvalidToken("bad signature") from exc
        return kind, UUID(bytes=ident), number

    def venue_token(self, venue_id: UUID, poster_version: int) -> str:
        return self._sign(_VENUE, venue_id, poster_version)

    def open_venue_token(self, token: str) -> VenueClaim:
        _, venue_id, version = self._open(token, (_VENUE,))
        return VenueClaim(venue_id, version)

    def health_code(
        self, person_id: UUID, now: float | None = None, ttl_s: int = HEALTH_CODE_TTL_S
    ) -> tuple[str, int]:
        """A dynamic health-code token and the Unix second it expires."""
        expires = int(time.time() if now is None else now) + ttl_s
        return self._sign(_DYNAMIC, person_id, expires), expires

    def paper_code(self, person_id: UUID, serial: int) -> str:
        return self._sign(_PAPER, person_id, serial)

    def open_health_code(self, token: str) -> HealthCodeClaim:
        """The claim of a genuine health-code token; expiry and revocation are the caller's check."""
        kind, person_id, number = self._open(token, (_DYNAMIC, _PAPER))
        if kind == _DYNAMIC:
            return HealthCodeClaim(person_id, "dynamic", number, None)
        return HealthCodeClaim(person_id, "paper", None, number)

"""The three secrets of the platform: the JWT key, the token-signing key and the personal-data key.

In production every key must come from settings (``VENUECODE_JWT_PRIVATE_KEY``,
``VENUECODE_TOKEN_PRIVATE_KEY``, ``VENUECODE_PII_KEY``) and a missing one stops
the start. In development they are generated once into ``.venuecode/keys/`` so
that restarts and the CLI see the same keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.settings import InfraSettings


class MissingKey(RuntimeError):
    """A key that production requires was not configured."""


def key_id(public: Ed25519PublicKey) -> bytes:
    """Four bytes naming a public key, carried in tokens so verifiers pick the right key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:4]


@dataclass(frozen=True)
class SigningKeys:
    """The current Ed25519 key that signs, and every public key that may still verify.

    Rotation has an overlap: tokens signed by a ``previous`` key keep verifying
    until ``previous_until`` (Unix seconds), then stop; ``None`` keeps them
    verifying until they are removed from the settings.
    """

    private: Ed25519PrivateKey
    previous: tuple[Ed25519PublicKey, ...] = ()
    previous_until: float | None = None

    # The keys never change, so their derivations are made once: every request's token check
    # (``AccessTokens.verify``, even for a remembered token) asks ``verifier``, which derived the
    # public key from the private one and hashed it twice, ~4 us a request.
    @cached_property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @cached_property
    def kid(self) -> bytes:
        return key_id(self.public)

    def verifier(self, kid: bytes, now: float | None = None) -> Ed25519PublicKey | None:
        if self.kid == kid:
            return self.public
        if self.previous_until is not None and (time.time() if now is None else now) >= self.previous_until:
            return None  # the overlap is over: the previous keys no longer verify anything
        for key in self.previous:
            if key_id(key) == kid:
                return key
        return None


@dataclass(frozen=True)
class Keys:
    jwt: SigningKeys
    tokens: SigningKeys
    pii: bytes  # 32 bytes: AES-256-GCM key; the HMAC key is derived from it unless pinned
    pii_previous: tuple[bytes, ...] = ()  # still decrypt during a rotation
    pii_digest: bytes | None = None  # pinned digest key (a rotation keeps the old one)

    @property
    def pii_hmac(self) -> bytes:
        # A separate key for digests, so a digest never helps to attack the cipher.
        return self.pii_digest or derived_digest_key(self.pii)


def derived_digest_key(pii: bytes) -> bytes:
    """The digest key derived from a cipher key: what VENUECODE_PII_DIGEST_KEY pins in a rotation."""
    return hashlib.sha256(b"venuecode.pii.hmac\x00" + pii).digest()


def _key32(value: str, name: str) -> bytes:
    try:
        key = bytes.fromhex(value.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise MissingKey(f"{name} must be 32 bytes in hex (64 characters)")
    return key


def private_from_pem(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise MissingKey("the signing key must be an Ed25519 private key in PEM")
    return key


def public_from_pem(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise MissingKey("a previous key must be an Ed25519 public key in PEM")
    return key


def private_to_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _dev_file(directory: Path, name: str, make: str) -> str:
    path = directory / name
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make)
        # Rename is atomic: four services starting together agree on one key.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink(missing_ok=True)
    return path.read_text()


def load_keys(settings: InfraSettings) -> Keys:
    """The keys from settings, or in development from (or generated into) state_dir/keys."""
    directory = settings.state_dir / "keys"

    def signing(
        secret: str | None, previous: list[str], name: str, until: datetime | None = None
    ) -> SigningKeys:
        if secret is None:
            if settings.is_production:
                raise MissingKey(
                    f"VENUECODE_{name.upper()}_PRIVATE_KEY is required when VENUECODE_ENV=production"
                )
            secret = _dev_file(directory, f"{name}.pem", private_to_pem(Ed25519PrivateKey.generate()))
        return SigningKeys(
            private_from_pem(secret),
            tuple(public_from_pem(p) for p in previous),
            until.timestamp() if until is not None else None,
        )

    pii_hex = settings.pii_key.get_secret_value() if settings.pii_key else None
    if pii_hex is None:
        if settings.is_production:
            raise MissingKey("VENUECODE_PII_KEY is required when VENUECODE_ENV=production")
        pii_hex = _dev_file(directory, "pii.key", secrets.token_hex(32))
    pii = _key32(pii_hex, "VENUECODE_PII_KEY")
    previous = tuple(
        _key32(k.get_secret_value(), "VENUECODE_PII_PREVIOUS_KEYS") for k in settings.pii_previous_keys
    )
    digest = settings.pii_digest_key
    pinned = _key32(digest.get_secret_value(), "VENUECODE_PII_DIGEST_KEY") if digest else None
    return Keys(
        jwt=signing(
            settings.jwt_private_key.get_secret_value() if settings.jwt_private_key else None,
            settings.jwt_previous_public_keys,
            "jwt",
            settings.jwt_previous_keys_until,
        ),
        tokens=signing(
            settings.token_private_key.get_secret_value() if settings.token_private_key else None,
            settings.token_previous_public_keys,
            "token",
            settings.token_previous_keys_until,
        ),
        pii=pii,
        pii_previous=previous,
        pii_digest=pinned,
    )

"""The vault during a PII key rotation (issue 17): new blobs name their key, reads accept the
previous keys, old-format blobs are still read, digests do not depend on the cipher key."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.pii import Vault

OLD, NEW, DIGEST = b"o" * 32, b"n" * 32, b"d" * 32
NUMBER = "11010519491231002X"


def version_1_blob(key: bytes, number: str) -> bytes:
    """A blob as sealed before blobs named their key: version 1, nonce, sealed."""
    nonce = os.urandom(12)
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, number.encode(), b"id")


def test_a_rotating_vault_reads_both_keys_and_seals_with_the_new_one() -> None:
    before, during, after = Vault(OLD, DIGEST), Vault(NEW, DIGEST, (OLD,)), Vault(NEW, DIGEST)
    old_blob = before.encrypt(NUMBER)
    assert during.decrypt(old_blob) == NUMBER
    assert not during.is_current(old_blob)
    new_blob = during.reseal(old_blob)
    assert during.is_current(new_blob)
    assert after.decrypt(new_blob) == NUMBER
    with pytest.raises(ValueError, match="does not hold"):
        after.decrypt(old_blob)  # once the rotation is over the old key reads nothing
    assert before.id_digest("mainland_id", NUMBER) == after.id_digest("mainland_id", NUMBER)


def test_blobs_of_the_first_format_are_read_with_any_key_and_are_never_current() -> None:
    during = Vault(NEW, DIGEST, (OLD,))
    legacy = version_1_blob(OLD, NUMBER)
    assert during.decrypt(legacy) == NUMBER
    assert not during.is_current(legacy)
    assert Vault(NEW, DIGEST).is_current(during.reseal(legacy))
    assert not Vault(OLD, DIGEST).is_current(during.encrypt(NUMBER))
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        Vault(b"x" * 32, DIGEST).decrypt(legacy)

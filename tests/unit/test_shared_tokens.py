"""shared.tokens: venue and health-code tokens reject any change, keep their kinds apart, rotate keys."""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from shared.keys import SigningKeys
from shared.tokens import HEALTH_CODE_TTL_S, InvalidToken, TokenSigner

KEY = Ed25519PrivateKey.generate()
SIGNER = TokenSigner(SigningKeys(KEY))
# What a scanner or a person could type: the base32 alphabet, lower case, padding and noise.
TYPED = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcxyz0189=-_ "


def _change(token: str, position: int, character: str) -> str:
    position %= len(token)
    if token[position] == character:
        character = TYPED[(TYPED.index(character) + 1) % len(TYPED)]
    return token[:position] + character + token[position + 1 :]


@given(st.uuids(), st.integers(0, 2**31), st.integers(0, 10_000), st.sampled_from(TYPED))
def test_any_changed_character_of_a_venue_token_is_rejected(
    venue_id: uuid.UUID, version: int, position: int, character: str
) -> None:
    token = SIGNER.venue_token(venue_id, version)
    claim = SIGNER.open_venue_token(token)
    assert (claim.venue_id, claim.poster_version) == (venue_id, version)
    with pytest.raises(InvalidToken):
        SIGNER.open_venue_token(_change(token, position, character))


@given(st.uuids(), st.integers(0, 10_000), st.sampled_from(TYPED), st.booleans())
def test_any_changed_character_of_a_health_code_is_rejected(
    person_id: uuid.UUID, position: int, character: str, paper: bool
) -> None:
    token = SIGNER.paper_code(person_id, 3) if paper else SIGNER.health_code(person_id, now=1_800_000_000)[0]
    assert SIGNER.open_health_code(token).person_id == person_id
    with pytest.raises(InvalidToken):
        SIGNER.open_health_code(_change(token, position, character))


def test_truncated_extended_and_empty_tokens_are_rejected() -> None:
    token = SIGNER.venue_token(uuid.uuid4(), 1)
    for bad in (token[:-1], token + "A", "", token.lower(), token + "====", "A" * 300):
        with pytest.raises(InvalidToken):
            SIGNER.open_venue_token(bad)


def test_token_alphabet_is_qr_alphanumeric() -> None:
    token = SIGNER.venue_token(uuid.uuid4(), 7)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_kinds_are_not_interchangeable() -> None:
    ident = uuid.uuid4()
    venue = SIGNER.venue_token(ident, 1)
    dynamic, _ = SIGNER.health_code(ident)
    paper = SIGNER.paper_code(ident, 1)
    with pytest.raises(InvalidToken, match="kind"):
        SIGNER.open_health_code(venue)
    for health in (dynamic, paper):
        with pytest.raises(InvalidToken, match="kind"):
            SIGNER.open_venue_token(health)


def test_dynamic_and_paper_claims() -> None:
    person = uuid.uuid4()
    token, expires = SIGNER.health_code(person, now=1_800_000_000)
    assert expires == 1_800_000_000 + HEALTH_CODE_TTL_S
    claim = SIGNER.open_health_code(token)
    assert (claim.kind, claim.expires_at, claim.paper_serial) == ("dynamic", expires, None)
    paper = SIGNER.open_health_code(SIGNER.paper_code(person, 42))
    assert (paper.kind, paper.expires_at, paper.paper_serial) == ("paper", None, 42)


def test_rotation_previous_key_verifies_rotated_out_key_fails() -> None:
    old = Ed25519PrivateKey.generate()
    new = Ed25519PrivateKey.generate()
    venue = uuid.uuid4()
    token = TokenSigner(SigningKeys(old)).venue_token(venue, 2)
    still_listed = TokenSigner(SigningKeys(new, previous=(old.public_key(),)))
    assert still_listed.open_venue_token(token).venue_id == venue
    rotated_out = TokenSigner(SigningKeys(new))
    with pytest.raises(InvalidToken, match="unknown key"):
        rotated_out.open_venue_token(token)


def test_a_payload_signed_by_another_key_under_our_key_id_fails() -> None:
    token = SIGNER.venue_token(uuid.uuid4(), 1)
    raw = base64.b32decode(token + "=" * (-len(token) % 8))
    payload = raw[:-64]
    forged = payload + Ed25519PrivateKey.generate().sign(payload)
    with pytest.raises(InvalidToken, match="signature"):
        SIGNER.open_venue_token(base64.b32encode(forged).decode().rstrip("="))

"""shared.auth: access tokens are EdDSA only, expire, name their audience and rotate keys."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import VERIFIED_TOKENS, AccessTokens
from shared.errors import Unauthorized
from shared.keys import SigningKeys

KEY = Ed25519PrivateKey.generate()
KEYS = SigningKeys(KEY)
TOKENS = AccessTokens(KEYS, "venuecode", 3600)
PERSON = uuid.uuid4()


def _claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(PERSON),
        "roles": ["epidemiologist"],
        "aud": "venuecode",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return claims


def test_issue_and_verify() -> None:
    principal = TOKENS.verify(TOKENS.issue(PERSON, ["operator", "epidemiologist"]))
    assert principal.person_id == PERSON
    assert principal.roles == {"operator", "epidemiologist"}
    assert principal.has("epidemiologist")
    assert not principal.has("health_authority")
    assert jwt.get_unverified_header(TOKENS.issue(PERSON, []))["alg"] == "EdDSA"


def test_hs256_token_is_refused_even_keyed_with_our_public_key() -> None:
    public = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    forged = jwt.encode(_claims(), public, algorithm="HS256", headers={"kid": KEYS.kid.hex()})
    with pytest.raises(Unauthorized):
        TOKENS.verify(forged)


def test_alg_none_is_refused() -> None:
    forged = jwt.encode(_claims(), None, algorithm="none", headers={"kid": KEYS.kid.hex()})
    with pytest.raises(Unauthorized):
        TOKENS.verify(forged)


def test_expired_token_is_refused() -> None:
    stale = TOKENS.issue(PERSON, [], now=time.time() - 2 * 3600)
    with pytest.raises(Unauthorized):
        TOKENS.verify(stale)


def test_missing_exp_is_refused() -> None:
    claims = _claims()
    del claims["exp"]
    token = jwt.encode(claims, KEY, algorithm="EdDSA", headers={"kid": KEYS.kid.hex()})
    with pytest.raises(Unauthorized):
        TOKENS.verify(token)


def test_other_audience_is_refused() -> None:
    other = AccessTokens(KEYS, "someone-else", 3600)
    with pytest.raises(Unauthorized):
        TOKENS.verify(other.issue(PERSON, []))
    token = jwt.encode(_claims(aud=None), KEY, algorithm="EdDSA", headers={"kid": KEYS.kid.hex()})
    with pytest.raises(Unauthorized):
        TOKENS.verify(token)


def test_unknown_key_and_tampering_are_refused() -> None:
    stranger = AccessTokens(SigningKeys(Ed25519PrivateKey.generate()), "venuecode", 3600)
    with pytest.raises(Unauthorized):
        TOKENS.verify(stranger.issue(PERSON, []))
    token = TOKENS.issue(PERSON, [])
    head, _body, signature = token.split(".")
    elevated = jwt.utils.base64url_encode(jwt.utils.force_bytes('{"roles":["epidemiologist"]}')).decode()
    for bad in (f"{head}.{elevated}.{signature}", token[:-2], "not-a-token", ""):
        with pytest.raises(Unauthorized):
            TOKENS.verify(bad)


def test_previous_jwt_key_still_verifies_after_rotation() -> None:
    old = Ed25519PrivateKey.generate()
    token = AccessTokens(SigningKeys(old), "venuecode", 3600).issue(PERSON, [])
    rotated = AccessTokens(SigningKeys(KEY, previous=(old.public_key(),)), "venuecode", 3600)
    assert rotated.verify(token).person_id == PERSON
    with pytest.raises(Unauthorized):
        TOKENS.verify(token)


def test_a_remembered_token_is_still_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = AccessTokens(KEYS, "venuecode", 60)
    token = tokens.issue(PERSON, ["epidemiologist"])
    first = tokens.verify(token)
    assert tokens.verify(token) == first  # the second time from memory
    later = time.time() + 61
    monkeypatch.setattr("shared.auth.time.time", lambda: later)
    with pytest.raises(Unauthorized):
        tokens.verify(token)


def test_a_remembered_token_of_a_retired_key_is_refused_once_the_overlap_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = Ed25519PrivateKey.generate()
    token = AccessTokens(SigningKeys(old), "venuecode", 3600).issue(PERSON, [])
    until = time.time() + 30
    rotated = AccessTokens(
        SigningKeys(KEY, previous=(old.public_key(),), previous_until=until), "venuecode", 3600
    )
    assert rotated.verify(token).person_id == PERSON
    monkeypatch.setattr("shared.auth.time.time", lambda: until + 1)
    with pytest.raises(Unauthorized):
        rotated.verify(token)


def test_the_memory_of_verified_tokens_holds_at_most_its_bound() -> None:
    tokens = AccessTokens(KEYS, "venuecode", 3600)
    issued = [tokens.issue(uuid.uuid4(), []) for _ in range(VERIFIED_TOKENS + 1)]
    for token in issued[:-1]:
        tokens.verify(token)
    assert len(tokens._verified) == VERIFIED_TOKENS  # every one remembered up to the bound
    tokens.verify(issued[-1])
    assert len(tokens._verified) == 1  # then forgotten at once, the newest remembered

"""Tokens: JWTs pin EdDSA and check exp and aud; signed tokens reject any changed character;
rotated keys keep verifying during the overlap and stop after it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from shared.auth import AccessTokens
from shared.errors import Unauthorized
from shared.keys import SigningKeys, load_keys, private_to_pem
from shared.settings import InfraSettings
from shared.tokens import InvalidToken, TokenSigner

AUDIENCE = "venuecode"


def public_to_pem(key: Ed25519PublicKey) -> str:
    """A public key as an operator configures a previous one (VENUECODE_TOKEN_PREVIOUS_PUBLIC_KEYS)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
KEYS = SigningKeys(Ed25519PrivateKey.generate())
SIGNER = TokenSigner(KEYS)
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": str(uuid.uuid4()), "roles": ["operator"], "aud": AUDIENCE, "exp": now + 600} | changes


def hs256_with_public_key(keys: SigningKeys) -> str:
    """The classic confusion attack: HMAC over the token with the (public) verification key."""
    header = {"alg": "HS256", "typ": "JWT", "kid": keys.kid.hex()}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}"
    secret = public_to_pem(keys.public).encode()
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def alg_none(keys: SigningKeys) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": keys.kid.hex()}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}."


def eddsa(keys: SigningKeys, **changes: object) -> str:
    return jwt.encode(_claims(**changes), keys.private, algorithm="EdDSA", headers={"kid": keys.kid.hex()})


FORGERIES: dict[str, Callable[[SigningKeys], str]] = {
    "HS256 keyed with the public key": hs256_with_public_key,
    "alg none": alg_none,
    "expired": lambda k: eddsa(k, exp=int(time.time()) - 5),
    "no exp": lambda k: jwt.encode(
        {key: v for key, v in _claims().items() if key != "exp"},
        k.private,
        algorithm="EdDSA",
        headers={"kid": k.kid.hex()},
    ),
    "another audience": lambda k: eddsa(k, aud="another-platform"),
    "no audience": lambda k: jwt.encode(
        {key: v for key, v in _claims().items() if key != "aud"},
        k.private,
        algorithm="EdDSA",
        headers={"kid": k.kid.hex()},
    ),
    "signed by a stranger's key": lambda k: eddsa(SigningKeys(Ed25519PrivateKey.generate())),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_forged_access_tokens_are_refused(forge: Callable[[SigningKeys], str]) -> None:
    tokens = AccessTokens(KEYS, AUDIENCE, 600)
    assert tokens.verify(eddsa(KEYS)).roles == frozenset({"operator"})  # the genuine one passes
    with pytest.raises(Unauthorized):
        tokens.verify(forge(KEYS))


async def test_the_live_app_answers_401_to_every_forgery(infra: InfraSettings, serve: Serve) -> None:
    from services.registry.app import create_app
    from services.registry.config import Settings

    keys = load_keys(infra).jwt
    async with serve(create_app(Settings(infra=infra))) as client:

        async def bindings(token: str) -> int:
            answer = await client.get(
                "/api/registry/v1/inspector-bindings", headers={"Authorization": f"Bearer {token}"}
            )
            return answer.status_code

        assert await bindings(eddsa(keys)) == 200
        for name, forge in FORGERIES.items():
            assert await bindings(forge(keys)) == 401, name


# --- venue and health-code tokens: any changed character is refused -------------------------


@st.composite
def tampered(draw: st.DrawFn, token: str) -> str:
    index = draw(st.integers(0, len(token) - 1))
    replacement = draw(
        st.sampled_from(BASE32 + BASE32.lower() + "0189=-_ ").filter(lambda c: c != token[index])
    )
    return token[:index] + replacement + token[index + 1 :]


VENUE_TOKEN = SIGNER.venue_token(uuid.uuid4(), 3)
HEALTH_TOKEN = SIGNER.health_code(uuid.uuid4())[0]
PAPER_TOKEN = SIGNER.paper_code(uuid.uuid4(), 2)


@settings(max_examples=300, derandomize=True)
@given(token=tampered(VENUE_TOKEN))
def test_a_venue_token_with_any_changed_character_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        SIGNER.open_venue_token(token)


@settings(max_examples=300, derandomize=True)
@given(token=st.one_of(tampered(HEALTH_TOKEN), tampered(PAPER_TOKEN)))
def test_a_health_code_token_with_any_changed_character_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        SIGNER.open_health_code(token)


@settings(max_examples=100, derandomize=True)
@given(cut=st.integers(1, len(VENUE_TOKEN) - 1), extra=st.text(BASE32, max_size=8))
def test_truncated_or_extended_tokens_are_refused(cut: int, extra: str) -> None:
    for token in (VENUE_TOKEN[:cut], VENUE_TOKEN + extra if extra else VENUE_TOKEN[:-1]):
        with pytest.raises(InvalidToken):
            SIGNER.open_venue_token(token)


def test_a_venue_token_is_not_a_health_code_and_back() -> None:
    with pytest.raises(InvalidToken):
        SIGNER.open_health_code(VENUE_TOKEN)
    with pytest.raises(InvalidToken):
        SIGNER.open_venue_token(HEALTH_TOKEN)


# --- key rotation with an overlap --------------------------------------------------------------


def test_previous_keys_verify_during_the_overlap_and_stop_after_it() -> None:
    old = SigningKeys(Ed25519PrivateKey.generate())
    now = time.time()
    during = SigningKeys(Ed25519PrivateKey.generate(), (old.public,), previous_until=now + 3600)
    after = SigningKeys(during.private, (old.public,), previous_until=now - 1)
    forever = SigningKeys(during.private, (old.public,))  # the settings API of before: no end

    jwt_old = AccessTokens(old, AUDIENCE, 600).issue(uuid.uuid4(), [])
    venue_old = TokenSigner(old).venue_token(uuid.uuid4(), 1)
    paper_old = TokenSigner(old).paper_code(uuid.uuid4(), 1)
    for keys in (during, forever):
        AccessTokens(keys, AUDIENCE, 600).verify(jwt_old)
        TokenSigner(keys).open_venue_token(venue_old)
        TokenSigner(keys).open_health_code(paper_old)
    with pytest.raises(Unauthorized):
        AccessTokens(after, AUDIENCE, 600).verify(jwt_old)
    with pytest.raises(InvalidToken):
        TokenSigner(after).open_venue_token(venue_old)
    with pytest.raises(InvalidToken):
        TokenSigner(after).open_health_code(paper_old)
    # The current key is never subject to the overlap.
    AccessTokens(after, AUDIENCE, 600).verify(AccessTokens(after, AUDIENCE, 600).issue(uuid.uuid4(), []))
    assert during.verifier(old.kid, now=now + 3599) is not None
    assert during.verifier(old.kid, now=now + 3600) is None


async def test_rotation_settings_on_the_live_app(infra: InfraSettings, serve: Serve) -> None:
    from datetime import UTC, datetime, timedelta

    from services.registry.app import create_app
    from services.registry.config import Settings

    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    token = AccessTokens(SigningKeys(old), infra.jwt_audience, 600).issue(uuid.uuid4(), [])
    rotated = {
        "jwt_private_key": SecretStr(private_to_pem(new)),
        "jwt_previous_public_keys": [public_to_pem(old.public_key())],
    }
    now = datetime.now(UTC)
    for until, expected in ((now + timedelta(hours=1), 200), (now - timedelta(seconds=1), 401)):
        settings_ = infra.model_copy(update={**rotated, "jwt_previous_keys_until": until})
        async with serve(create_app(Settings(infra=settings_))) as client:
            answer = await client.get(
                "/api/registry/v1/inspector-bindings", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == expected, (until, answer.text)


def test_rotation_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    old = Ed25519PrivateKey.generate()
    monkeypatch.setenv("VENUECODE_TOKEN_PREVIOUS_PUBLIC_KEYS", json.dumps([public_to_pem(old.public_key())]))
    monkeypatch.setenv("VENUECODE_TOKEN_PREVIOUS_KEYS_UNTIL", "2030-01-01T00:00:00+08:00")
    monkeypatch.setenv("VENUECODE_TOKEN_PRIVATE_KEY", private_to_pem(Ed25519PrivateKey.generate()))
    monkeypatch.setenv("VENUECODE_PII_KEY", "00" * 32)
    monkeypatch.setenv("VENUECODE_JWT_PRIVATE_KEY", private_to_pem(Ed25519PrivateKey.generate()))
    keys = load_keys(InfraSettings()).tokens
    assert keys.previous_until is not None
    assert keys.previous_until == pytest.approx(1893427200.0)  # 2029-12-31T16:00:00Z
    assert keys.verifier(SigningKeys(old).kid, now=keys.previous_until - 1) is not None

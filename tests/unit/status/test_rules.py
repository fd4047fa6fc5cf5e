"""Pure rules of the status service: colour/reason coherence, expiry on read, age bands, tokens, cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from services.status.cache import cached
from services.status.lookup import may_be_looked_up
from services.status.models import Shown, StatusRecord
from services.status.paper import paper_card_pdf
from services.status.service import check_colour
from shared.errors import InvalidValue
from shared.i18n import LANGUAGES, REASON_CODES
from shared.keys import SigningKeys
from shared.tokens import InvalidToken, TokenSigner

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COLOURS = st.sampled_from(["green", "yellow", "red"])


@given(COLOURS, st.sampled_from(sorted(REASON_CODES)))
def test_green_only_with_none(colour: str, reason: str) -> None:
    fits = (colour == "green") == (reason == "none")
    if fits:
        check_colour(colour, reason)  # type: ignore[arg-type]
    else:
        with pytest.raises(InvalidValue) as raised:
            check_colour(colour, reason)  # type: ignore[arg-type]
        assert raised.value.errors[0]["field"] == "reason"


@given(COLOURS, st.text(max_size=20).filter(lambda r: r not in REASON_CODES))
def test_unknown_reasons_are_refused(colour: str, reason: str) -> None:
    with pytest.raises(InvalidValue):
        check_colour(colour, reason)  # type: ignore[arg-type]


def record(valid_until: datetime | None) -> StatusRecord:
    return StatusRecord(uuid4(), "red", "confirmed_case", 3, valid_until, NOW, NOW)


@given(st.integers(min_value=-10_000, max_value=10_000))
def test_reads_never_show_an_expired_colour(offset_s: int) -> None:
    until = NOW + timedelta(seconds=offset_s)
    shown = Shown.of(record(until), NOW)
    if offset_s <= 0:
        assert (shown.colour, shown.reason, shown.updated_at) == ("green", "none", until)
    else:
        assert (shown.colour, shown.reason) == ("red", "confirmed_case")


def test_cache_entry_carries_version_and_expiry() -> None:
    entry = cached(record(NOW))
    assert (entry.colour, entry.version, entry.valid_until) == ("red", 3, NOW.timestamp())
    assert cached(record(None)).valid_until is None


@given(st.integers(min_value=0, max_value=120))
def test_age_bands(age: int) -> None:
    assert may_be_looked_up(age) == (age >= 60 or age <= 16)


SIGNER = TokenSigner(SigningKeys(Ed25519PrivateKey.generate()))
# One token for every example: a token made per example varies in length, and hypothesis
# refuses a strategy (the position drawn) whose range changes between examples.
TOKEN, _ = SIGNER.health_code(uuid4(), now=NOW.timestamp())


@given(st.data())
def test_any_changed_character_of_a_health_code_fails(data: st.DataObject) -> None:
    token = TOKEN
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abc0189=").filter(lambda c: c != token[position])
    )
    with pytest.raises(InvalidToken):
        SIGNER.open_health_code(token[:position] + replacement + token[position + 1 :])


@pytest.mark.parametrize("language", LANGUAGES)
def test_paper_card_is_a_pdf_in_every_language(language: str) -> None:
    pdf = paper_card_pdf(SIGNER.paper_code(uuid4(), 1), "張*明", 1, NOW, language)  # type: ignore[arg-type]
    assert pdf.startswith(b"%PDF")
    assert b"STSong-Light" in pdf

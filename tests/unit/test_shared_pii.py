"""shared.pii: the GB 11643 rules of a mainland resident ID, the other documents, and masking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.pii import (
    PROVINCE_PREFIXES,
    InvalidIdentity,
    Vault,
    age_on,
    birth_date_of,
    check_character,
    mask_id,
    mask_name,
    normalise_id,
    validate_identity,
    validate_mainland_id,
)

TODAY = date(2026, 11, 25)
ID_CHARACTERS = "0123456789X"


@st.composite
def mainland_ids(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(PROVINCE_PREFIXES)))
    area = draw(st.integers(0, 9999))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(0, 999))
    first17 = f"{province:02d}{area:04d}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


@given(mainland_ids())
def test_every_generated_mainland_id_is_valid(number: str) -> None:
    assert validate_mainland_id(number, TODAY) == number
    assert validate_identity("mainland_id", number.lower(), TODAY) == number


@given(mainland_ids(), st.integers(0, 17), st.sampled_from(ID_CHARACTERS))
def test_every_single_character_change_is_rejected(number: str, position: int, character: str) -> None:
    if number[position] == character:
        character = ID_CHARACTERS[(ID_CHARACTERS.index(character) + 1) % len(ID_CHARACTERS)]
    changed = number[:position] + character + number[position + 1 :]
    with pytest.raises(InvalidIdentity):
        validate_mainland_id(changed, TODAY)


def test_known_valid_number_and_its_birth_date() -> None:
    number = "11010519491231002X"  # the GB 11643 standard's own example
    assert validate_mainland_id(number, TODAY) == number
    assert birth_date_of("mainland_id", number) == date(1949, 12, 31)
    assert birth_date_of("passport", "E12345678") is None


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("11010519491231002", "18 characters"),
        ("1101051949123100AX", "17 digits"),
        ("99010519491231002X", "province"),
        ("110105194902300020", "does not exist"),
        ("110105230001010021", "not possible"),
        ("110105194912310021", "check character"),
    ],
)
def test_each_rule_names_itself(number: str, reason: str) -> None:
    with pytest.raises(InvalidIdentity, match=reason):
        validate_mainland_id(number, TODAY)


def test_spaces_hyphens_and_full_width_are_normalised() -> None:
    assert normalise_id(" 110105-19491231-002x ") == "11010519491231002X"
    assert normalise_id("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (
            "hk_macao_permit",
            ["H12345678", "M1234567801", "h12345678"],
            ["H1234567", "X12345678", "H123456789"],
        ),
        ("taiwan_permit", ["12345678", "1234567890"], ["1234567", "123456789", "A2345678"]),
        ("passport", ["E12345678", "AB123", "g1234567"], ["E12", "E1234567890123456789", "E12.45678"]),
    ],
)
def test_other_documents(kind: str, good: list[str], bad: list[str]) -> None:
    for number in good:
        assert validate_identity(kind, number) == normalise_id(number)  # type: ignore[arg-type]
    for number in bad:
        with pytest.raises(InvalidIdentity):
            validate_identity(kind, number)  # type: ignore[arg-type]


def test_masking_forms() -> None:
    assert mask_name("張小明") == "張*明"
    assert mask_name("張三") == "張*"
    assert mask_name("歐陽小明") == "歐**明"
    assert mask_name("張") == "*"
    assert mask_id("44078219900101123X") == "4407**********123X"
    assert mask_id("H12345678") == "H123*5678"
    assert mask_id("12345678") == "1******8"


def test_age_on_birthday_boundaries() -> None:
    born = date(2010, 11, 26)
    assert age_on(born, date(2026, 11, 25)) == 15
    assert age_on(born, date(2026, 11, 26)) == 16


def test_vault_round_trip_and_digests() -> None:
    vault = Vault(b"k" * 32, b"d" * 32)
    blob = vault.encrypt("11010519491231002x")
    assert b"11010519491231002" not in blob
    assert vault.decrypt(blob) == "11010519491231002X"
    assert vault.encrypt("11010519491231002X") != blob  # a fresh nonce each time
    assert vault.id_digest("mainland_id", "110105 19491231 002x") == vault.id_digest(
        "mainland_id", "11010519491231002X"
    )
    assert vault.id_digest("mainland_id", "12345678") != vault.id_digest("taiwan_permit", "12345678")
    assert vault.name_digest(" 張  小明 ") == vault.name_digest("張 小明")
    other = Vault(b"o" * 32, b"e" * 32)
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        other.decrypt(blob)

"""shared.pii: residence permits of Hong Kong, Macao and Taiwan residents (81/82/83) and the
foreign permanent resident ID card in both its formats, with valid and invalid examples.

The check characters of the examples were computed outside venuecode (weights 2^(17-i) mod 11,
"10X98765432"), so a broken rule in ``shared.pii`` cannot agree with them by construction.
"""

from __future__ import annotations

from datetime import date

import pytest

from shared.pii import InvalidIdentity, Vault, birth_date_of, mask_id, validate_identity

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "number",
    ["830000199001010012", "810000198001010030", "83000019900101001-2"],
)
def test_residence_permits_of_hk_macao_and_taiwan_residents_are_mainland_numbers(number: str) -> None:
    assert validate_identity("mainland_id", number, TODAY) == number.replace("-", "")
    assert birth_date_of("mainland_id", number) is not None


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("830000199001010013", "check character"),
        ("840000199001010018", "province code"),
        ("830000203001010011", "not possible"),
    ],
)
def test_taiwan_residence_permit_rules(number: str, reason: str) -> None:
    with pytest.raises(InvalidIdentity, match=reason):
        validate_identity("mainland_id", number, TODAY)


GOOD_FOREIGN = {
    # 2023 card: 9, province 44 (Guangdong), nationality 156, born 1985-06-15, sequence 012.
    "944156198506150127": date(1985, 6, 15),
    "931156200002290033": date(2000, 2, 29),
    # 2004/2017 card: USA, province 44, born 850615 (century not written), sequence 012, check 3.
    "USA448506150123": None,
    "can119912310017": None,  # lower case is normalised
    "GBR310002290010": None,  # 29 February exists in 2000
}


@pytest.mark.parametrize("number", sorted(GOOD_FOREIGN))
def test_foreign_permanent_resident_cards_accepted(number: str) -> None:
    assert validate_identity("foreign_permanent_resident", number, TODAY) == number.upper()
    assert birth_date_of("foreign_permanent_resident", number) == GOOD_FOREIGN[number]


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("944156198506150128", "check character"),  # last character changed
        ("944156201302290023", "does not exist"),  # 2013-02-29
        ("944156203001010015", "not possible"),  # born in 2030
        ("947156198506150124", "not a mainland province"),  # 47 is no province
        ("971156198506150125", "not a mainland province"),  # 71 Taiwan issues no such card
        ("844156198506150125", "3 letters and 12 digits"),  # a mainland-style number not starting 9
        ("94415619850615012", "3 letters and 12 digits"),  # 17 characters
        ("U1448506150123", "3 letters and 12 digits"),  # 2 letters
        ("USA44850615012", "3 letters and 12 digits"),  # 14 characters
        ("USA4485061501234", "3 letters and 12 digits"),  # 16 characters
        ("USA998506150123", "not a mainland province"),
        ("USA441013010123", "does not exist"),  # month 13
        ("USA440102290123", "does not exist"),  # 29 February 1901 or 2001
    ],
)
def test_foreign_permanent_resident_rules(number: str, reason: str) -> None:
    with pytest.raises(InvalidIdentity, match=reason):
        validate_identity("foreign_permanent_resident", number, TODAY)


def test_a_new_foreign_card_is_no_mainland_id() -> None:
    with pytest.raises(InvalidIdentity, match="province code"):
        validate_identity("mainland_id", "944156198506150127", TODAY)


def test_foreign_cards_are_masked_and_digested_like_every_kind() -> None:
    assert mask_id("944156198506150127") == "9441**********0127"
    assert mask_id("usa448506150123") == "USA4*******0123"
    vault = Vault(b"k" * 32, b"d" * 32)
    digest = vault.id_digest("foreign_permanent_resident", "usa448506150123")
    assert digest == vault.id_digest("foreign_permanent_resident", "USA 44 850615 012 3")
    assert digest != vault.id_digest("passport", "USA448506150123")

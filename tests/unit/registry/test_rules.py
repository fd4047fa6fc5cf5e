"""The registry's pure rules: identity formats, field cleaning, categories, regions."""

from __future__ import annotations

import string
import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.identity import FormatOnlyVerifier
from services.registry.models import TYPICAL_STAY_MINUTES, Category, region_label
from services.registry.service import (
    check_password,
    clean_name,
    clean_phone,
    clean_relation,
    person_registered,
)
from services.registry.venues import clean_category, clean_region_code, clean_venue_name
from shared.errors import InvalidValue
from shared.pii import PROVINCE_PREFIXES, Vault, check_character

born = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
prefixes = st.sampled_from(sorted(p for p in PROVINCE_PREFIXES))


@st.composite
def mainland_ids(draw: st.DrawFn) -> str:
    area, serial = draw(st.integers(0, 9999)), draw(st.integers(0, 999))
    first17 = f"{draw(prefixes):02d}{area:04d}{draw(born):%Y%m%d}{serial:03d}"
    return first17 + check_character(first17)


@given(mainland_ids())
def test_every_valid_mainland_id_passes(number):
    assert FormatOnlyVerifier().check("mainland_id", number) == number


async def test_the_verifier_checks_the_format():
    number = "11010519491231002X"
    assert await FormatOnlyVerifier().verify("mainland_id", number.lower(), "張三") == number


@given(mainland_ids(), st.integers(0, 17), st.sampled_from(string.digits + string.ascii_uppercase))
def test_every_single_character_change_fails(number, position, symbol):
    if number[position] == symbol:
        return
    changed = number[:position] + symbol + number[position + 1 :]
    with pytest.raises(InvalidValue) as caught:
        FormatOnlyVerifier().check("mainland_id", changed)
    assert caught.value.errors[0]["field"] == "id_number"


@pytest.mark.parametrize(
    ("kind", "number"),
    [
        ("hk_macao_permit", "H12345678"),
        ("hk_macao_permit", "m1234567890"),
        ("taiwan_permit", "12345678"),
        ("passport", "E12345678"),
    ],
)
async def test_other_documents_get_their_format_checked(kind, number):
    assert await FormatOnlyVerifier().verify(kind, number, "x")
    with pytest.raises(InvalidValue):
        await FormatOnlyVerifier().verify(kind, number + "!", "x")


def test_names_are_normalised_and_limited():
    assert clean_name("  張　三  明 ") == "張 三 明"
    assert clean_name("ＡＢＣ") == "ABC"
    for bad in ("", "   ", "名" * 65, "a\x00b"):
        with pytest.raises(InvalidValue):
            clean_name(bad)


def test_phone_and_password():
    assert clean_phone("+86 138-0013-8000") == "+8613800138000"
    for bad in ("12345", "+12ab5678", "1" * 16):
        with pytest.raises(InvalidValue):
            clean_phone(bad)
    check_password("x" * 8)
    check_password("x" * 128)
    for bad in ("x" * 7, "x" * 129):
        with pytest.raises(InvalidValue):
            check_password(bad)


def test_relations():
    assert clean_relation(" Child ") == "child"
    assert clean_relation("外公") == "外公"
    with pytest.raises(InvalidValue):
        clean_relation("x" * 21)
    with pytest.raises(InvalidValue):
        clean_relation("  ")


def test_venue_fields():
    assert clean_region_code("440305") == "440305"
    for bad in ("44030", "4403055", "990305", "abcdef"):
        with pytest.raises(InvalidValue):
            clean_region_code(bad)
    with pytest.raises(InvalidValue):
        clean_venue_name(" 甲 ")
    assert clean_venue_name("甲乙") == "甲乙"
    assert len(clean_venue_name("甲" * 100)) == 100
    with pytest.raises(InvalidValue):
        clean_venue_name("甲" * 101)
    assert clean_category(None) is Category.OTHER
    assert clean_category("Hotel") is Category.HOTEL
    with pytest.raises(InvalidValue):
        clean_category("casino")


def test_typical_stays_are_the_lead_s_list():
    assert {c.value: m for c, m in TYPICAL_STAY_MINUTES.items()} == {
        "hospital": 60,
        "restaurant": 90,
        "supermarket": 30,
        "transport": 20,
        "office": 480,
        "school": 480,
        "hotel": 720,
        "other": 60,
    }


def test_region_label_names_province_city_and_district():
    assert region_label("440305") == "广东省 深圳市 南山区"
    assert region_label("440783") == "广东省 江门市 开平市"


def test_person_registered_carries_no_name_or_number():
    vault = Vault(b"k" * 32, b"h" * 32)

    number = "11010519491231002X"
    event = person_registered(uuid.uuid4(), "mainland_id", number, "歐陽建國", vault)
    text = event.model_dump_json()
    assert number not in text
    assert "歐陽建國" not in text
    assert event.data.birth_date == date(1949, 12, 31)
    assert event.data.masked_name == "歐**國"
    passport = person_registered(uuid.uuid4(), "passport", "E12345678", "John Smith", vault)
    assert passport.data.birth_date is None

"""Declaration codes: the check character catches every typo it promises to catch."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry import declaration
from services.registry.declaration import ALPHABET, InvalidDeclarationCode, check_symbol, generate, normalise

bodies = st.text(alphabet=ALPHABET, min_size=9, max_size=9).filter(lambda b: check_symbol(b) in ALPHABET)
codes = bodies.map(lambda b: b + check_symbol(b))


def test_generated_codes_are_ten_plain_symbols_and_valid():
    for _ in range(200):
        code = generate()
        assert len(code) == 10
        assert set(code) <= set(ALPHABET)
        assert normalise(code) == code


def test_generated_codes_differ():
    assert len({generate() for _ in range(1000)}) == 1000


@given(codes, st.data())
def test_any_spelling_of_a_code_is_accepted(code, data):
    lower = "".join(c.lower() if data.draw(st.booleans()) else c for c in code)
    spaced = " ".join([lower[:3], lower[3:6]]) + "-" + lower[6:]
    assert normalise(lower) == code
    assert normalise(f"  {spaced} ") == code
    assert normalise(declaration.display(code)) == code


@given(codes, st.integers(0, 9), st.sampled_from(ALPHABET))
def test_every_single_substitution_is_caught(code, position, symbol):
    if code[position] == symbol:
        return
    changed = code[:position] + symbol + code[position + 1 :]
    with pytest.raises(InvalidDeclarationCode):
        normalise(changed)


@given(codes, st.integers(0, 8))
def test_every_swap_of_neighbours_is_caught(code, position):
    if code[position] == code[position + 1]:
        return
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    with pytest.raises(InvalidDeclarationCode):
        normalise(swapped)


def test_look_alike_letters_read_as_digits():
    body = "1O0IL2345"
    canonical = "100112345"
    code = canonical + check_symbol(canonical)
    if code[-1] in ALPHABET:
        assert normalise(body + code[-1]) == code


@pytest.mark.parametrize("text", ["", "ABC", "ABCDEFGHJKM", "ABCDE!GHJK", "ABCDEUGHJK"])
def test_malformed_codes_are_refused(text):
    with pytest.raises(InvalidDeclarationCode):
        normalise(text)

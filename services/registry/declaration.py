"""Declaration codes: 10 characters of Crockford base32, the last one a mod-37 check character.

Nine random symbols carry 45 bits; the check symbol is their value mod 37, as in Crockford's
specification. 37 is prime and larger than the alphabet, so every single changed symbol and every
swap of two neighbours changes the check. Only bodies whose check falls inside the 32 letters and
digits are issued, so a code never holds the extra check symbols ``*~$=U`` and is easy to type.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = ALPHABET + "*~$=U"
BODY_LENGTH = 9
LENGTH = BODY_LENGTH + 1
_VALUES = {symbol: value for value, symbol in enumerate(CHECK_SYMBOLS)}
# Crockford decoding folds look-alikes: I and L read as 1, O as 0.
_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = re.compile(r"[\s\-]")


class InvalidDeclarationCode(ValueError):
    """Not a declaration code: wrong length, a foreign character or a wrong check character."""


def check_symbol(body: str) -> str:
    value = 0
    for symbol in body:
        value = value * 32 + _VALUES[symbol]
    return CHECK_SYMBOLS[value % 37]


def generate() -> str:
    """A fresh random code whose check symbol is one of the 32 ordinary symbols."""
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
        check = check_symbol(body)
        if check in ALPHABET:
            return body + check


def normalise(text: str) -> str:
    """The canonical code typed by a person: case, spaces, hyphens and look-alikes forgiven."""
    value = _SEPARATORS.sub("", text).upper().translate(_ALIASES)
    if len(value) != LENGTH:
        raise InvalidDeclarationCode("a declaration code has 10 characters")
    if any(symbol not in ALPHABET for symbol in value):
        raise InvalidDeclarationCode("a declaration code holds only letters and digits")
    if check_symbol(value[:BODY_LENGTH]) != value[-1]:
        raise InvalidDeclarationCode("the check character does not match")
    return value


def display(code: str) -> str:
    """Grouped for reading aloud: ``ABCDE-FGHJK``."""
    return f"{code[:5]}-{code[5:]}"

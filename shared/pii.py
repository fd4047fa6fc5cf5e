"""The one door for personal data: identity-number rules, encryption, keyed digests and masking.

Nothing else in venuecode validates, formats, stores or logs identity numbers.
Numbers are stored encrypted with AES-256-GCM; they are found by an HMAC-SHA256
digest of the normalised value; they leave a service masked.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.events import IdKind

# GB 11643-1999: weights of the 17 digits, and the check character by sum mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Province-level prefixes of GB/T 2260 (plus 71 Taiwan).
_PROVINCES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66), 71]
)
# Residence permits of Hong Kong (81), Macao (82) and Taiwan (83) residents use the mainland
# number's format, GB 11643 check character included.
PROVINCE_PREFIXES = _PROVINCES | {81, 82, 83}
_HK_MACAO = re.compile(r"[HM]\d{8}(\d{2})?")  # 回鄉證: H/M + 8 digits (old cards: + 2 more)
_TAIWAN = re.compile(r"\d{8}|\d{10}")  # 台胞證: 8 digits since 2015, 10 before
# Foreign permanent resident ID card (外國人永久居留身份證). The card of 2004/2017: 3 letters of
# nationality (ISO 3166-1 alpha-3), 2 digits of the receiving province, birth date YYMMDD,
# 3 digits of sequence and 1 check digit. Its check-digit algorithm is not published, so only
# the structure, the province and the birth date can be checked. The card of 2023: 18 digits,
# "9", 2 digits of province, 3 of nationality, birth date YYYYMMDD, 3 of sequence and the
# GB 11643 check character, like a mainland ID.
_FOREIGN_OLD = re.compile(r"[A-Z]{3}(\d{2})(\d{6})\d{4}")
_FOREIGN_NEW = re.compile(r"9(\d{2})\d{14}[\dX]")
_PASSPORT = re.compile(r"[A-Z0-9]{5,17}")  # ICAO 9303 allows up to 9 in the MRZ; some states use more
# Version 1 blobs name no key (version, nonce, sealed); version 2 blobs name the key that sealed
# them (version, 8-byte key id, nonce, sealed), so a key rotation knows what is left to re-encrypt.
_V1, _V2 = b"\x01", b"\x02"
KEY_ID_BYTES = 8


class InvalidIdentity(ValueError):
    """An identity number that breaks its document's format, with the reason."""


def normalise_id(number: str) -> str:
    """Upper case, without spaces or hyphens: how a number is compared and hashed."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", number)).upper()


def normalise_name(name: str) -> str:
    """NFKC, trimmed, inner runs of white space folded to one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name)).strip()


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def mainland_birth_date(number: str) -> date:
    """Birth date of a valid 18-character mainland resident ID."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _check_birth_date(born: date | None, today: date | None) -> None:
    if born is None:
        raise InvalidIdentity("the birth date in the number does not exist")
    if born > (today or date.today()) or born.year < 1900:  # noqa: DTZ011 - a calendar day
        raise InvalidIdentity("the birth date in the number is not possible")


def _dated(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _check_gb11643(value: str, today: date | None) -> None:
    """Birth date at characters 7-14 and the check character, shared by the 18-character forms."""
    _check_birth_date(_dated(int(value[6:10]), int(value[10:12]), int(value[12:14])), today)
    if check_character(value[:17]) != value[17]:
        raise InvalidIdentity("the check character does not match (GB 11643)")


def validate_mainland_id(number: str, today: date | None = None) -> str:
    """The normalised number, or ``InvalidIdentity`` saying which rule it breaks.

    Also the format of the residence permits of Hong Kong, Macao and Taiwan residents.
    """
    value = normalise_id(number)
    if len(value) != 18:
        raise InvalidIdentity("a mainland resident ID has 18 characters")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdentity("a mainland resident ID is 17 digits and a digit or X")
    if int(value[:2]) not in PROVINCE_PREFIXES:
        raise InvalidIdentity("the first two digits are not a province code")
    _check_gb11643(value, today)
    return value


def validate_foreign_permanent_resident(number: str, today: date | None = None) -> str:
    """The normalised number of either foreign permanent resident ID card, or ``InvalidIdentity``."""
    value = normalise_id(number)
    if old := _FOREIGN_OLD.fullmatch(value):
        province, birth = old.groups()
        # YYMMDD names no century: the date must exist, and not lie ahead, in one of the two.
        yy, mm, dd = int(birth[:2]), int(birth[2:4]), int(birth[4:])
        candidates = [d for d in (_dated(2000 + yy, mm, dd), _dated(1900 + yy, mm, dd)) if d]
        past = [d for d in candidates if d <= (today or date.today())]  # noqa: DTZ011
        born: date | None = (past or candidates)[0] if candidates else None
    elif new := _FOREIGN_NEW.fullmatch(value):
        province, born = new.group(1), None
    else:
        raise InvalidIdentity(
            "a foreign permanent resident ID is 3 letters and 12 digits, or 18 digits starting with 9"
        )
    if int(province) not in _PROVINCES - {71}:
        raise InvalidIdentity("the receiving province code in the number is not a mainland province")
    if old:
        _check_birth_date(born, today)
    else:
        _check_gb11643(value, today)
    return value


def validate_identity(kind: IdKind, number: str, today: date | None = None) -> str:
    """The normalised number of any accepted document, or ``InvalidIdentity``."""
    value = normalise_id(number)
    if kind == "mainland_id":
        return validate_mainland_id(value, today)
    if kind == "foreign_permanent_resident":
        return validate_foreign_permanent_resident(value, today)
    pattern, what = {
        "hk_macao_permit": (_HK_MACAO, "H or M followed by 8 or 10 digits"),
        "taiwan_permit": (_TAIWAN, "8 or 10 digits"),
        "passport": (_PASSPORT, "5 to 17 letters or digits"),
    }[kind]
    if not pattern.fullmatch(value):
        raise InvalidIdentity(f"this document number must be {what}")
    return value


def birth_date_of(kind: IdKind, number: str) -> date | None:
    """A mainland ID and the 18-digit foreign permanent resident card carry the birth date
    with its century; the older 15-character card (YYMMDD) and the other documents do not."""
    value = normalise_id(number)
    if kind == "mainland_id" or (kind == "foreign_permanent_resident" and len(value) == 18):
        return mainland_birth_date(value)
    return None


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def mask_name(name: str) -> str:
    """First and last character kept: 張*明, two characters 張*."""
    value = normalise_name(name)
    if len(value) <= 1:
        return "*"
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_id(number: str) -> str:
    """First 4 and last 4 kept: 4407**********123X. Short documents keep one at each end."""
    value = normalise_id(number)
    keep = 4 if len(value) > 8 else 1
    if len(value) <= 2 * keep:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def key_id(key: bytes) -> bytes:
    """A short public name of a cipher key (it reveals nothing of the key)."""
    return hashlib.sha256(b"venuecode.pii.kid\x00" + key).digest()[:KEY_ID_BYTES]


@dataclass(frozen=True)
class Vault:
    """Encrypts identity numbers and makes the keyed digests that find them.

    ``previous_keys`` still decrypt during a key rotation (``venuecode rotate-pii-key``); new
    blobs are always sealed with ``cipher_key``. The digest key is separate, so digests do not
    change when the cipher key does.
    """

    cipher_key: bytes
    digest_key: bytes
    previous_keys: tuple[bytes, ...] = field(default=())

    @property
    def key_id(self) -> bytes:
        return key_id(self.cipher_key)

    def encrypt(self, number: str) -> bytes:
        nonce = os.urandom(12)
        sealed = AESGCM(self.cipher_key).encrypt(nonce, normalise_id(number).encode(), b"id")
        return _V2 + self.key_id + nonce + sealed

    def decrypt(self, blob: bytes) -> str:
        version = blob[:1]
        if version == _V2:
            wanted = blob[1 : 1 + KEY_ID_BYTES]
            keys = [k for k in (self.cipher_key, *self.previous_keys) if key_id(k) == wanted]
            if not keys:
                raise ValueError("sealed with a key this vault does not hold")
            body = blob[1 + KEY_ID_BYTES :]
            return AESGCM(keys[0]).decrypt(body[:12], body[12:], b"id").decode()
        if version != _V1:
            raise ValueError("unknown cipher version")
        for key in (self.cipher_key, *self.previous_keys):  # a version 1 blob: try each key
            try:
                return AESGCM(key).decrypt(blob[1:13], blob[13:], b"id").decode()
            except InvalidTag:
                continue
        raise InvalidTag("no key of this vault opens the blob")

    def is_current(self, blob: bytes) -> bool:
        """Sealed with the current key (nothing left for a rotation to do)."""
        return blob[:1] == _V2 and blob[1 : 1 + KEY_ID_BYTES] == self.key_id

    def reseal(self, blob: bytes) -> bytes:
        """The same number sealed with the current key."""
        return self.encrypt(self.decrypt(blob))

    def id_digest(self, kind: IdKind, number: str) -> str:
        message = f"{kind}:{normalise_id(number)}".encode()
        return hmac.new(self.digest_key, message, hashlib.sha256).hexdigest()

    def name_digest(self, name: str) -> str:
        message = normalise_name(name).casefold().encode()
        return hmac.new(self.digest_key, b"name:" + message, hashlib.sha256).hexdigest()

"""Every message a problem+json answer carries, in zh-Hant, zh-Hans and en, keyed by a code.

Rules keep raising problems with their English text, where they are
(``raise UnknownVenue("This venue code belongs to no registered venue.")``): the answer
is translated when it is written (``Problem.body(language)``), in the request's language.
The catalogue is a set of TOML files, ``shared/catalogue/<namespace>.toml``, one table per
message; the message's code is ``<namespace>.<key>``::

    [venue_code_not_genuine]
    en = "This is not a genuine venue code."
    zh-Hant = "這不是真實的場所碼。"
    zh-Hans = "这不是真实的场所码。"

``{name}`` marks a part that varies: in English it matches whatever the raise site put
there (``f"a name has at most {NAME_MAX} characters"`` is ``"a name has at most {max}
characters"``), and that value goes into the translation, itself translated when it is a
message of the catalogue (a document number's rule inside "only a mainland resident ID
can be looked up: {why}").

Three namespaces have a fixed meaning:

- ``titles``: the title of each problem type (``Problem.title``);
- ``fields``: the label of a field as ``errors[].field`` names it (``phone``: 手機號碼), so
  that a Chinese detail reads "手機號碼：..." and never "phone: ...";
- ``pydantic``: a request-validation error by pydantic's error type (``string_too_long``),
  its ``{placeholders}`` being the error's context (``max_length``).

A new message: add its table to its service's file (``tests/unit/test_messages.py`` fails
for any English text raised in the code that the catalogue does not have, and for any
entry missing a language or with English words in its Chinese).
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from shared.i18n import LANGUAGES, Language, Text

CATALOGUE_DIR = Path(__file__).parent / "catalogue"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A Chinese sentence's field label and its message: "手機號碼：..."; several joined by "；".
_FIELD_SEPARATOR: dict[Language, str] = {"zh-Hant": "：", "zh-Hans": "：", "en": ": "}
_LIST_SEPARATOR: dict[Language, str] = {"zh-Hant": "；", "zh-Hans": "；", "en": "; "}


class _Lenient(string.Formatter):
    """``str.format`` that leaves an unknown ``{name}`` as it is instead of failing."""

    def get_value(self, key: int | str, args: object, kwargs: Mapping[str, object]) -> object:
        return kwargs.get(str(key), "{" + str(key) + "}")


_FORMATTER = _Lenient()


class Catalogue:
    """The messages of every ``*.toml`` in a directory, and their lookup by English text."""

    def __init__(self, directory: Path = CATALOGUE_DIR) -> None:
        self.messages: dict[str, Text] = {}
        for path in sorted(directory.glob("*.toml")):
            with path.open("rb") as file:
                tables = tomllib.load(file)
            for key, entry in tables.items():
                self.messages[f"{path.stem}.{key}"] = {
                    language: str(entry.get(language, "")) for language in LANGUAGES
                }
        self._exact: dict[str, str] = {}
        # The most literal text first, so "No venue has this id." wins over "No {what} has this id.".
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        for code, text in self.messages.items():
            english = text["en"]
            if code.startswith("pydantic."):
                continue  # matched by error type, never by text
            if _PLACEHOLDER.search(english) is None:
                self._exact.setdefault(english, code)
                continue
            parts = _PLACEHOLDER.split(english)
            regex = "".join(
                re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
            )
            self._patterns.append((re.compile(regex + r"\Z", re.DOTALL), code))
        self._patterns.sort(key=lambda p: -len(_PLACEHOLDER.sub("", self.messages[p[1]]["en"])))

    def code_of(self, english: str) -> tuple[str, dict[str, str]] | None:
        """The code of an English message and the values of its ``{placeholders}``, or None."""
        code = self._exact.get(english)
        if code is not None:
            return code, {}
        for pattern, code in self._patterns:
            match = pattern.match(english)
            if match is not None:
                return code, match.groupdict()
        return None

    def message(self, code: str, language: Language, params: Mapping[str, object] | None = None) -> str:
        """The message ``code`` in ``language`` with its placeholders filled (values translated)."""
        values = {name: self.translate(str(value), language) for name, value in (params or {}).items()}
        return _FORMATTER.format(self.messages[code][language], **values)

    def translate(self, english: str, language: Language) -> str:
        """An English message of the catalogue in ``language``; other text is left as it is."""
        if language == "en":
            return english
        found = self.code_of(english)
        if found is None:
            return english
        return self.message(found[0], language, found[1])

    def field_label(self, field: str, language: Language) -> str:
        """A field's label: its full path's (``people.0.person_id``), else its last name's."""
        names = [field, *(part for part in reversed(field.split(".")) if not part.isdigit())]
        for name in names:
            text = self.messages.get(f"fields.{name}")
            if text is not None:
                return text[language]
        return field

    def field_errors(self, errors: list[tuple[str, str]], language: Language) -> str:
        """Field errors as one sentence: "手機號碼：...；密碼：..." (``field: message; ...`` in English)."""
        return _LIST_SEPARATOR[language].join(
            f"{self.field_label(field, language) if language != 'en' else field}"
            f"{_FIELD_SEPARATOR[language]}{message}"
            for field, message in errors
        )


@cache
def catalogue() -> Catalogue:
    """The catalogue of ``shared/catalogue/``, read once."""
    return Catalogue()

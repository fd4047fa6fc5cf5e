"""Every problem the status service answers with (each one problem+json answer), and the one
error that parks a command on the dead-letter topic. No rule module defines its own."""

from __future__ import annotations

from shared.errors import Forbidden, Gone, InvalidValue, NotFound, Unavailable


class UnknownPerson(NotFound):
    def __init__(self) -> None:
        super().__init__("No registered person has this id.")


class NotYourCode(Forbidden):
    def __init__(self) -> None:
        super().__init__("Only the person or their guardian may see this health code.")


class NotAnInspector(Forbidden):
    def __init__(self) -> None:
        super().__init__("Only an inspector bound to a venue may verify health codes.")


class ForgedToken(InvalidValue):
    def __init__(self) -> None:
        super().__init__("token", "this is not a health code issued here")


class TokenExpired(Gone):
    def __init__(self) -> None:
        super().__init__("This health code has expired; ask the person to show a fresh one.")


class TokenRevoked(Gone):
    def __init__(self) -> None:
        super().__init__("This paper code was replaced by a newer one and no longer works.")


class LookupAgeRefused(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "Assisted lookup is only for people aged 60 or over, or 16 or under; "
            "others can show their own health code."
        )


class LookupNoMatch(NotFound):
    def __init__(self) -> None:
        super().__init__("No registered person has this name and identity number.")


class ColourCacheDown(Unavailable):
    """A change committed but could not reach the colour cache: the caller retries (503), and
    the next cache check refills it."""

    def __init__(self) -> None:
        super().__init__("The colour cache is unavailable; retry shortly.")


class BadStatusCommand(ValueError):
    """A status.set command that no rule could accept: it goes to the dead-letter topic."""

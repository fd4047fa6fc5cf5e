"""The named errors of the registry's rules; each maps to one problem+json answer."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, InvalidValue


class NotAnInspector(Forbidden):
    title = "Not an inspector"

    def __init__(self) -> None:
        super().__init__("Only an inspector bound to a venue can register people on the spot.")


class NotAssistable(Forbidden):
    title = "Not an elder or a child"

    def __init__(self) -> None:
        super().__init__(
            "Only people aged 60 or over, or 16 or under, can be registered by an inspector;"
            " others register their own account."
        )


class AlreadyRegistered(Conflict):
    title = "Identity already registered"

    def __init__(self) -> None:
        super().__init__("This person is registered already: look them up by name and identity number.")


class BirthDateMismatch(InvalidValue):
    def __init__(self) -> None:
        super().__init__("birth_date", "the birth date differs from the one in the identity number")

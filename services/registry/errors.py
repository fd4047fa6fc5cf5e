"""Every problem the registry answers with: one named type per broken rule."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, NotFound, Unauthorized

# --- people ---------------------------------------------------------------------------


class IdentityAlreadyRegistered(Conflict):
    title = "Identity already registered"


class NameDoesNotMatch(Conflict):
    title = "Name does not match the identity"


class WrongCredentials(Unauthorized):
    pass


class PersonNotFound(NotFound):
    pass


class AccountGone(NotFound):
    """The signed-in account was deleted while its token is still valid."""

    def __init__(self) -> None:
        super().__init__("The signed-in account no longer exists.")


# --- family ---------------------------------------------------------------------------


class NotYourOwnDependent(Conflict):
    title = "A person cannot be their own family member"


class NeedsOwnConsent(Forbidden):
    title = "This person must agree in their own account"


class NoSuchLink(NotFound):
    title = "No such family link"


# --- venues ---------------------------------------------------------------------------


class VenueAlreadyAdministered(Conflict):
    title = "You already administer a venue"

    def __init__(self) -> None:
        super().__init__("You already administer a venue; one administrator holds one venue.")


class VenueNameTaken(Conflict):
    title = "A venue with this name exists in this region"

    def __init__(self) -> None:
        super().__init__("A venue with this full name is already registered in this region.")


class VenueNotFound(NotFound):
    pass


class UnknownDeclarationCode(NotFound):
    pass


class NotBound(NotFound):
    pass


class NotVenueAdministrator(Forbidden):
    pass


class NotVenueInspector(Forbidden):
    pass

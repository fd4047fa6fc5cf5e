"""Every problem the registry answers with: one named type per broken rule."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, Gone, InvalidValue, NotFound, Unauthorized

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
    title = "A venue with this name and address exists in this region"

    def __init__(self) -> None:
        super().__init__("A venue with this full name and address is already registered in this region.")


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


# --- assisted registration (issue 16) ---------------------------------------------------


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


class AlreadyRegistered(IdentityAlreadyRegistered):
    def __init__(self) -> None:
        super().__init__("This person is registered already: look them up by name and identity number.")


class BirthDateMismatch(InvalidValue):
    def __init__(self) -> None:
        super().__init__("birth_date", "the birth date differs from the one in the identity number")


class RefreshTokenRefused(Unauthorized):
    """Unknown, expired or signed out: the phone signs in again."""

    title = "Refresh token refused"

    def __init__(self) -> None:
        super().__init__("The refresh token is unknown, expired or signed out; sign in again.")


class RefreshTokenReused(Unauthorized):
    """A rotated token came back: a copy of it is elsewhere, so its whole family was revoked."""

    title = "Refresh token reused"

    def __init__(self) -> None:
        super().__init__(
            "This refresh token was used before, so it may have been copied: this sign-in has been"
            " ended on every device that shared it. Sign in again."
        )


# --- regions and handovers (issue 16) ----------------------------------------------------


class RegionNotFound(NotFound):
    title = "Unknown region"


class HandoverNotFound(NotFound):
    title = "No such handover"


class RecipientNotFound(NotFound):
    title = "No account to hand the venue to"


class HandoverPending(Conflict):
    title = "A handover of this venue is already pending"

    def __init__(self) -> None:
        super().__init__("Cancel the pending handover of this venue first.")


class HandoverDecided(Conflict):
    title = "This handover is no longer pending"


class RecipientAdministers(Conflict):
    title = "The named account already administers a venue"


class AmbiguousPhone(Conflict):
    title = "Several accounts have this phone number"


class NotHandoverRecipient(Forbidden):
    title = "Only the account named in the handover can answer it"


class HandoverExpired(Gone):
    title = "This handover has expired"

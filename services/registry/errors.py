"""The registry's named problems (issue 16: regions and venue handovers)."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, Gone, NotFound


class RegionNotFound(NotFound):
    title = "Unknown region"


class HandoverNotFound(NotFound):
    title = "No such handover"


class RecipientNotFound(NotFound):
    title = "No account to hand the venue to"


class HandoverPending(Conflict):
    title = "A handover of this venue is already pending"


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

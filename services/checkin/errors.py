"""The checkin service's problem types: each a subclass of a ``shared.errors`` type (its status)."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, Gone, NotFound, Unavailable


class UnknownVenue(NotFound):
    title = "Unknown venue"


class OutdatedPoster(Gone):
    title = "Outdated venue poster"


class NotYourDependent(Forbidden):
    title = "Not the caller or their dependent"


class NotAnInspector(Forbidden):
    title = "Not an inspector of this venue"


class NotVenueStaff(Forbidden):
    title = "Not the administrator or an inspector of this venue"


class ExpiredHealthCode(Gone):
    title = "Expired health code"


class RevokedPaperCode(Gone):
    """The answer status gives for the same card (410, problem type ``gone``)."""

    title = "Revoked paper code"


class ScanInProgress(Conflict):
    title = "A scan with this Idempotency-Key is still being recorded"


class VisitsUnavailable(Unavailable):
    title = "Open visits cannot be read"

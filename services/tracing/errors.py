"""The problems tracing answers with, named (RFC 9457 bodies from ``shared.errors``)."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, NotFound


class QueryNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No contact query has this id.")


class AnalysisNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No exposure analysis has this id.")


class AlertNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No venue alert has this id.")


class PersonNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No person is registered under this identity number.")


class NotificationsPaused(Conflict):
    """The operator's switch is on: no status command goes out."""

    def __init__(self) -> None:
        super().__init__("Notifications are paused by an operator; nothing was sent.")


class AlertNotPending(Conflict):
    """Only a pending alert can be approved."""

    def __init__(self, state: str) -> None:
        super().__init__(f"The alert is {state}; only a pending alert can be approved.")


class AlertAlreadyWithdrawn(Conflict):
    def __init__(self) -> None:
        super().__init__("The alert is already withdrawn.")


class OwnAlert(Forbidden):
    """The two-person rule: whoever created an alert cannot approve it."""

    def __init__(self) -> None:
        super().__init__("Two-person rule: the alert's creator cannot approve it.")

"""The named errors of the registry's rules; each maps to one problem+json answer."""

from __future__ import annotations

from shared.errors import Unauthorized


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

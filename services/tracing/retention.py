"""How long tracing keeps check-ins, read on the service's clock: what is stored, read and queried."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.errors import InvalidValue

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Retention:
    """The retention period in days, and the clock it is read on."""

    days: int
    clock: Clock = utcnow

    def now(self) -> datetime:
        return self.clock()

    def cutoff(self) -> datetime:
        """Nothing that checked in before this instant is stored or read."""
        return self.clock() - timedelta(days=self.days)

    def check_window(self, from_at: datetime, to_at: datetime) -> None:
        if from_at >= to_at:
            raise InvalidValue("to", "must be later than from")
        if to_at - from_at > timedelta(days=self.days):
            raise InvalidValue("from", f"the window may span at most {self.days} days")

    def window(self, from_at: datetime | None, to_at: datetime | None) -> tuple[datetime, datetime]:
        """A query's window: up to now and the whole period back when not given; checked."""
        to_at = to_at or self.clock()
        from_at = from_at or to_at - timedelta(days=self.days)
        self.check_window(from_at, to_at)
        return from_at, to_at

"""Progress of long command-line work (loading a benchmark store, posters, migrations, topic
creation, replays, re-encryption): a tqdm bar on stderr when stderr is a terminal, nothing
otherwise, so logs and CI output stay clean.

    with progress("posters", total=len(rows), unit="poster") as bar:
        for row in rows:
            ...
            bar.update()
            bar.note(f"row {index}: no such venue, skipped")   # printed above the bar
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm  # type: ignore[import-untyped]  # (no stubs; used through Bar only)


class Bar:
    """One bar: count work done, print a note without tearing the bar."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar

    def update(self, done: int = 1) -> None:
        self._bar.update(done)

    def note(self, text: str) -> None:
        """A line for the reader, shown on a terminal and off it (it is not progress)."""
        if self._bar.disable:
            sys.stderr.write(text + "\n")
        else:
            self._bar.write(text, file=sys.stderr)

    @property
    def shown(self) -> bool:
        return not self._bar.disable


def on_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress(what: str, *, total: int | None = None, unit: str = "it") -> Iterator[Bar]:
    """A bar for ``what``; ``total`` None when the amount is not known in advance."""
    bar = tqdm(
        total=total,
        desc=what,
        unit=unit,
        file=sys.stderr,
        disable=not on_terminal(),
        dynamic_ncols=True,
        # Redrawing costs a write a time; twice a second is enough for a human.
        mininterval=0.5,
    )
    try:
        yield Bar(bar)
    finally:
        bar.close()

"""shared.progress: a bar on a terminal, silence elsewhere; notes always reach the reader."""

from __future__ import annotations

import pytest

from shared import progress


def test_quiet_when_not_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.progress("loading", total=3, unit="row") as bar:
        assert not bar.shown
        bar.update(2)
        bar.note("row 2: skipped")
        bar.update()
    assert capsys.readouterr().err == "row 2: skipped\n"


def test_a_bar_on_a_terminal(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "on_terminal", lambda: True)
    with progress.progress("posters", total=4, unit="poster") as bar:
        assert bar.shown
        bar.update(3)
        bar.note("row 3: no such venue, skipped")
        bar.update()
    err = capsys.readouterr().err
    assert "row 3: no such venue, skipped" in err
    assert "posters" in err
    assert "4/4" in err
    assert "3/4" not in err.rsplit("\r", 1)[-1]  # the last drawing shows the end

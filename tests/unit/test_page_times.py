"""Issue 16: the pages' clock (shared/static/venuecode.js) shows a UTC instant on the Shanghai clock,
the same text shared.localtime prints on paper, whatever zone the browser runs in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "shared" / "static" / "venuecode.js"
HARNESS = """
global.window = {};
global.document = {documentElement: {lang: "zh-Hans"}, addEventListener() {},
  querySelector() { return null; }, querySelectorAll() { return []; }};
require(process.argv[1]);
console.log(JSON.stringify([
  window.vcTime("2026-12-06T16:30:00Z"),
  window.vcTime("2026-07-01T00:00:00+00:00"),
  window.vcClock(new Date("2026-12-06T16:30:05Z")),
  window.vcFromLocalInput("2026-12-07T00:30"),
  window.vcLocalInput(new Date("2026-12-06T16:30:00Z")),
  window.vcTime(""),
]));
"""


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Shanghai"])
def test_page_clock_is_shanghai_in_any_browser_zone(zone: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the browser tests check the pages' clock too)")
    out = subprocess.run(
        [node, "-e", HARNESS, str(SCRIPT)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TZ": zone},
    )
    assert json.loads(out.stdout) == [
        "2026-12-07 00:30",
        "2026-07-01 08:00",
        "00:30:05",
        "2026-12-06T16:30:00.000Z",
        "2026-12-07T00:30",
        "",
    ]

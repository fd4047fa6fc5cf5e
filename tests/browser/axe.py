"""axe-core in Chromium: the WCAG 2.1 A and AA audit of a page, and the contrast of what it shows.

axe-core comes from the npm registry (``package.json`` + ``package-lock.json``; ``make test``
runs ``npm ci``). The pages' Content-Security-Policy allows no inline script, so an audit runs
in a browser context made with ``bypass_csp=True``; the other browser tests keep the CSP on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CONTRAST_JS = Path(__file__).with_name("contrast.js")
# WCAG 2.1 at levels A and AA; axe's "best-practice" and AAA rules are not what the issue asks.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# Each violation with its first three elements and the first line of what is wrong with each.
_RUN = """tags => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map(n =>
      n.target.join(" ") + " :: " + n.failureSummary.split("\\n").slice(1, 2).join(""))})))"""


@cache
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `npm ci` (make test does it)")
    return AXE.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Violation:
    where: str  # the page and state audited
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: {self.rule} ({self.impact}) {self.help}\n    " + "\n    ".join(self.targets)


async def audit(page: Page, where: str) -> list[Violation]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (axe is injected once per document)."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=axe_source())
    found: list[dict[str, Any]] = await page.evaluate(_RUN, list(WCAG_TAGS))
    return [Violation(where, v["id"], v["impact"] or "", v["help"], tuple(v["targets"])) for v in found]


@dataclass(frozen=True)
class Contrast:
    """One visible run of text: its colours, the ratio between them and the least WCAG allows."""

    text: str
    ratio: float
    needed: float
    colour: str
    background: str
    large: bool

    def __str__(self) -> str:
        size = "large" if self.large else "normal"
        colours = f"{self.colour} on {self.background}"
        return f"{self.ratio:5.2f}:1 (>= {self.needed}) {size:6} {colours}  {self.text!r}"


async def contrasts(page: Page) -> list[Contrast]:
    """Every visible text's contrast against the background behind it, from the computed styles."""
    found: list[dict[str, Any]] = await page.evaluate(CONTRAST_JS.read_text(encoding="utf-8"))
    return [Contrast(**item) for item in found]

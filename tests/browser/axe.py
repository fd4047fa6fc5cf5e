"""axe-core in Chromium: the WCAG 2.1 A and AA audit of a page, and the contrast of what it shows.

axe-core comes from the npm registry (``package.json`` + ``package-lock.json``; ``make test`` runs
``npm ci``). The pages' Content-Security-Policy allows no inline script, and the audits keep it on:
axe goes into each document as a Playwright init script (``Page.addScriptToEvaluateOnNewDocument``,
which a page's CSP does not govern), so what is audited is the page as served.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from tests.browser.colour import flatten, over, ratio
from tests.browser.conftest import PHONE, WAIT_MS
from tests.browser.kit import Account

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CONTRAST_JS = Path(__file__).with_name("contrast.js")
CONTROLS_JS = Path(__file__).with_name("controls.js")
# WCAG 2.1 1.4.11: a control's boundary at 3:1 against what is next to it (axe does not check it).
EDGE_RATIO = 3.0
# WCAG 2.1 at levels A and AA; axe's "best-practice" and AAA rules are not what the issue asks.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# Each violation with its first three elements and the first line of what is wrong with each.
_RUN = """tags => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map(n =>
      n.target.join(" ") + " :: " + n.failureSummary.split("\\n").slice(1, 2).join(""))})))"""


def axe_path() -> Path:
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `npm ci` (make test does it)")
    return AXE


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
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (``tab`` puts axe in every document)."""
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


def edge_contrast(control: dict[str, Any]) -> float:
    """How a control stands out from what is behind it: by its own fill, or by its border."""
    outside = flatten(control["behind"])
    fill = over(control["fill"], outside)
    edges = [ratio(fill, outside)]
    if control["border"]:
        edges.append(ratio(over(control["border"], fill), outside))
    return max(edges)


async def controls(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await page.evaluate(CONTROLS_JS.read_text(encoding="utf-8"))
    return found


# The large-type switch's cookie values, named as the audits print them.
SIZES = (("normal", "0"), ("large", "1"))


@asynccontextmanager
async def tab(
    browser: Browser, origin: str, language: str, person: Account, viewport: ViewportSize = PHONE
) -> AsyncIterator[Page]:
    """A phone-sized profile in ``language``, signed in as ``person``, with axe-core in every page."""
    context = await browser.new_context(viewport=viewport, locale="en-US", reduced_motion="reduce")
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    # Into every document before its own scripts: sent to Chromium once, not 650 kB per audit.
    await context.add_init_script(path=axe_path())
    await person.into(context)
    await context.add_cookies([{"name": "vc_lang", "value": language, "url": origin}])
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def large_type(page: Page, origin: str, large: str) -> None:
    """What the header's large-type switch stores."""
    await page.context.add_cookies([{"name": "vc_large", "value": large, "url": origin}])


class Findings:
    """What the audits found, and where they looked."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.audited: list[str] = []
        self.violations: list[Violation] = []
        # (state, colour on background, least ratio allowed) -> the lowest ratio seen, a sample text
        self.contrast: dict[tuple[str, str, float], Contrast] = {}
        self.weak_edges: list[str] = []  # controls under 3:1 against the screen's colour

    async def audit(self, page: Page, where: str) -> None:
        self.violations += await audit(page, where)
        self.audited.append(where)

    async def measure(self, page: Page, state: str) -> None:
        for item in await contrasts(page):
            key = (state, f"{item.colour} on {item.background}", item.needed)
            if key not in self.contrast or item.ratio < self.contrast[key].ratio:
                self.contrast[key] = item
        for control in await controls(page):
            if not (control["link"] or control["check"]) and (edge := edge_contrast(control)) < EDGE_RATIO:
                self.weak_edges.append(f"{state}: {control['name']} {edge:.2f}:1")

    def too_low(self) -> list[str]:
        return [
            f"{state}: {item}" for (state, _, _), item in self.contrast.items() if item.ratio < item.needed
        ]

    def report(self) -> None:
        seconds = time.monotonic() - self.started
        print(f"\naxe-core WCAG 2.1 A/AA: {len(self.audited)} audits in {seconds:.1f} s")
        for where in sorted(self.audited):
            print(f"  audited {where}")
        if self.contrast:
            print("contrast, the lowest per pair of colours and state (WCAG 2.1 AA: 4.5:1, large text 3:1):")
            for (state, _, _), item in sorted(self.contrast.items()):
                print(f"  {state:28} {item}")
        listed = "\n".join(map(str, self.violations))
        assert not self.violations, f"{len(self.violations)} violations:\n{listed}"

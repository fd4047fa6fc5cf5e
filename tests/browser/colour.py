"""WCAG 2.1 contrast of CSS colours, computed in Python (apart from the pages' own scripts)."""

from __future__ import annotations

import re
from collections.abc import Sequence

RGB = tuple[float, float, float]
WHITE: RGB = (255.0, 255.0, 255.0)


def rgba(css: str) -> tuple[float, float, float, float]:
    """``rgb(1, 2, 3)`` / ``rgba(1, 2, 3, 0.5)`` as computed styles give them; anything else is clear."""
    parts = [float(p) for p in re.findall(r"[\d.]+", css)] if css.startswith("rgb") else []
    if len(parts) < 3:
        return (0.0, 0.0, 0.0, 0.0)
    return (parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0)


def over(top: str, under: RGB) -> RGB:
    red, green, blue, alpha = rgba(top)
    return (
        red * alpha + under[0] * (1 - alpha),
        green * alpha + under[1] * (1 - alpha),
        blue * alpha + under[2] * (1 - alpha),
    )


def flatten(layers: Sequence[str]) -> RGB:
    """Backgrounds listed nearest first, painted from the farthest up over the white canvas."""
    shown = WHITE
    for layer in reversed(layers):
        shown = over(layer, shown)
    return shown


def luminance(colour: RGB) -> float:
    def channel(value: float) -> float:
        s = value / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def ratio(one: RGB, other: RGB) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)

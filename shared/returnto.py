"""The return address (``next``) a page carries through registration and sign-in (issue 16).

Only a path on this origin is kept: anything a browser could read as another host (``//x``,
``/\\x``, a scheme, a tab or newline that browsers strip to make ``//``) is dropped, so a link
into the sign-in page can never send a freshly signed-in phone elsewhere (no open redirect).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

NEXT_MAX = 2000


def safe_next(value: str | None, fallback: str = "/") -> str:
    """``value`` when it is a path on this origin, else ``fallback``."""
    if not value or len(value) > NEXT_MAX:
        return fallback
    if not value.startswith("/") or value.startswith("//"):
        return fallback
    # Browsers read a backslash as a slash and drop tabs and newlines inside URLs.
    if "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return fallback
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return fallback
    return value


def with_next(path: str, target: str | None) -> str:
    """``path?next=target`` when the target is worth carrying, else ``path``."""
    kept = safe_next(target, "")
    return f"{path}?next={quote(kept, safe='/')}" if kept and kept != "/" else path

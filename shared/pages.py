"""Server-rendered pages: one Jinja2 environment per service over its own templates and the
shared base layout, in three languages, with a large-type mode for elderly users.

Pages are phone-first, carry no inline script or style (the Content-Security-Policy
forbids both) and get the shared ``/static/venuecode.css`` and ``/static/venuecode.js``.

What a service's ``pages.py`` needs, once for all four:

- ``Text`` and ``text(hant, hans, en)``: one text in the three languages
  (``TEXTS = {"title": text("健康碼", "健康码", "Health code")}``);
- ``Pages(templates_dir, TEXTS).render(request, "x.html", **context)``: the page in the
  request's language; every template gets ``t(key)``, ``lang``, ``large`` and ``sign_in``;
- ``signed_in(request)``: the signed-in person, or None (an expired cookie is no error on a page);
- ``sign_in_redirect(request)``: to the sign-in page, coming back here afterwards (``next``);
- ``csv_text(columns, rows)``: a download spreadsheet programs open in Chinese, safe from
  formula injection (``csv_safe``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

from shared.auth import SESSION_COOKIE, Principal, authenticate
from shared.errors import Unauthorized
from shared.i18n import LANGUAGES, Language, Text, language_of

SHARED_TEMPLATES = Path(__file__).parent / "templates"
SHARED_STATIC = Path(__file__).parent / "static"
LARGE_COOKIE = "vc_large"
# Where a page sends a visitor who is not signed in (the registry's page, on the one origin);
# it sends the person back to ``?next=`` afterwards.
SIGN_IN_URL = "/registry/login"
# Spreadsheet programs (Excel in particular) read UTF-8 CSV as the local code
# page unless it starts with a byte-order mark; Chinese names would be garbled.
CSV_BOM = "\ufeff"

Texts = Mapping[str, Mapping[Language, str]]
__all__ = ["SIGN_IN_URL", "Pages", "Text", "csv_safe", "csv_text", "sign_in_redirect", "signed_in", "text"]


def text(hant: str, hans: str, en: str) -> Text:
    """One text of a page in its three languages: Traditional and Simplified Chinese, English."""
    return {"zh-Hant": hant, "zh-Hans": hans, "en": en}


COMMON_TEXTS: dict[str, dict[Language, str]] = {
    "app_name": text("場所碼", "场所码", "Venue code"),
    "large_type": text("大字模式", "大字模式", "Large type"),
    "sign_in": text("登入", "登录", "Sign in"),
    "sign_out": text("登出", "退出", "Sign out"),
    "home": text("首頁", "首页", "Home"),
    "offline": text(
        "網絡中斷，恢復後會自動重試", "网络中断，恢复后会自动重试", "No network; will retry when it is back"
    ),
    "error": text("出錯了", "出错了", "Something went wrong"),
}


def static_files() -> StaticFiles:
    """The shared static files, mounted once at ``/static`` by the runner or gateway."""
    return StaticFiles(directory=SHARED_STATIC)


class Pages:
    """Renders one service's templates with the language, texts and large-type flag."""

    def __init__(self, templates: Path, texts: Texts) -> None:
        self._env = Environment(
            loader=ChoiceLoader([FileSystemLoader(templates), FileSystemLoader(SHARED_TEMPLATES)]),
            autoescape=select_autoescape(("html",)),
            auto_reload=False,
        )
        self._texts: dict[str, Mapping[Language, str]] = {**COMMON_TEXTS, **texts}

    def text(self, key: str, language: Language) -> str:
        entry = self._texts.get(key)
        return entry[language] if entry else key

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        language = language_of(request)
        # base.html marks a page rendered without a live access cookie (data-session="out"), so
        # that venuecode.js can renew it with the refresh token and show the page signed in.
        context.setdefault("signed_in", signed_in(request) is not None)
        shared = {
            "request": request,
            "lang": language,
            "languages": LANGUAGES,
            "large": request.cookies.get(LARGE_COOKIE) == "1",
            "t": lambda key: self.text(key, language),
            "sign_in": SIGN_IN_URL,
        }
        html = self._env.get_template(template).render({**shared, **context})
        response = HTMLResponse(html, status_code=status_code)
        # Pages show personal data and live colours: never from a shared cache.
        response.headers["Cache-Control"] = "no-store"
        return response


def signed_in(request: Request) -> Principal | None:
    """Who opened the page, or None: an expired cookie still opens it, with an offer to sign in."""
    if not request.cookies.get(SESSION_COOKIE) and "authorization" not in request.headers:
        return None  # nothing to verify (and pages rendered without an app's keys still open)
    try:
        return authenticate(request)
    except Unauthorized:
        return None


def sign_in_redirect(request: Request) -> RedirectResponse:
    """To the sign-in page, which sends the person back to this page (path and query) after."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{SIGN_IN_URL}?next={quote(target, safe='')}", status_code=303)


def csv_safe(text: str) -> str:
    """A cell that spreadsheet programs show as text: one starting with = + - @ would run as a
    formula (CSV injection), so it gets a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV download: BOM, header row, CRLF lines. Callers pass free text through ``csv_safe``."""
    out = io.StringIO()
    out.write(CSV_BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()

"""Server-rendered pages: one Jinja2 environment per service over its own templates and the
shared base layout, in three languages, with a large-type mode for elderly users.

Pages are phone-first, carry no inline script or style (the Content-Security-Policy
forbids both) and get the shared ``/static/venuecode.css`` and ``/static/venuecode.js``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from shared.auth import Principal, authenticate
from shared.errors import Unauthorized
from shared.i18n import LANGUAGES, Language, language_of

SHARED_TEMPLATES = Path(__file__).parent / "templates"
SHARED_STATIC = Path(__file__).parent / "static"
LARGE_COOKIE = "vc_large"

Texts = Mapping[str, Mapping[Language, str]]
Text = dict[Language, str]
# Where a page sends a visitor who is not signed in (the registry's page, on the one origin).
SIGN_IN_URL = "/registry/login"


def text(hant: str, hans: str, en: str) -> Text:
    """One text of a page in its three languages: Traditional and Simplified Chinese, English."""
    return {"zh-Hant": hant, "zh-Hans": hans, "en": en}


def signed_in(request: Request) -> Principal | None:
    """Who opened the page, or None: an expired cookie still opens it, with an offer to sign in."""
    try:
        return authenticate(request)
    except Unauthorized:
        return None


COMMON_TEXTS: dict[str, dict[Language, str]] = {
    "app_name": {"zh-Hant": "場所碼", "zh-Hans": "场所码", "en": "Venue code"},
    "large_type": {"zh-Hant": "大字模式", "zh-Hans": "大字模式", "en": "Large type"},
    "sign_in": {"zh-Hant": "登入", "zh-Hans": "登录", "en": "Sign in"},
    "sign_out": {"zh-Hant": "登出", "zh-Hans": "退出", "en": "Sign out"},
    "home": {"zh-Hant": "首頁", "zh-Hans": "首页", "en": "Home"},
    "offline": {
        "zh-Hant": "網絡中斷，恢復後會自動重試",
        "zh-Hans": "网络中断，恢复后会自动重试",
        "en": "No network; will retry when it is back",
    },
    "error": {"zh-Hant": "出錯了", "zh-Hans": "出错了", "en": "Something went wrong"},
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
        html = self._env.get_template(template).render(
            request=request,
            lang=language,
            languages=LANGUAGES,
            large=request.cookies.get(LARGE_COOKIE) == "1",
            t=lambda key: self.text(key, language),
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        # Pages show personal data and live colours: never from a shared cache.
        response.headers["Cache-Control"] = "no-store"
        return response

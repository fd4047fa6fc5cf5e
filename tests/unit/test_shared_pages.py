"""shared.pages: the one set of page helpers every service uses: texts in three languages, the
language (Simplified Chinese when the browser speaks none of them) and its persistence, the
large-type switch in the shared layout, sign-in redirects and CSV downloads."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import Request

from shared.auth import AccessTokens
from shared.keys import SigningKeys
from shared.pages import SIGN_IN_URL, Pages, csv_safe, csv_text, sign_in_redirect, signed_in, text

TOKENS = AccessTokens(SigningKeys(Ed25519PrivateKey.generate()), "venuecode", 3600)


def _request(query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/x/page",
        "query_string": query,
        "headers": headers or [],
        # What authenticate() reads: the app's token verifier.
        "app": SimpleNamespace(state=SimpleNamespace(access_tokens=TOKENS)),
    }
    return Request(scope)


def _pages(tmp_path: Path) -> Pages:
    (tmp_path / "page.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>{{ t("title") }}</h1>'
        '<a href="{{ sign_in }}">in</a>{% endblock %}',
        encoding="utf-8",
    )
    return Pages(tmp_path, {"title": text("健康碼", "健康码", "Health code")})


def test_a_browser_speaking_none_of_the_three_gets_simplified_chinese(tmp_path: Path) -> None:
    page = _pages(tmp_path).render(_request(headers=[(b"accept-language", b"fr-FR,fr;q=0.9")]), "page.html")
    html = bytes(page.body).decode()
    assert '<html lang="zh-Hans"' in html
    assert "<h1>健康码</h1>" in html
    assert f'href="{SIGN_IN_URL}"' in html
    # Every page has the switches: three languages and large type.
    assert html.count("data-lang=") == 3
    assert "data-large-toggle" in html
    assert "set-cookie" not in page.headers  # nothing was chosen


def test_the_chosen_language_wins_over_the_browser(tmp_path: Path) -> None:
    # The switcher stores the choice in vc_lang (venuecode.js); ?lang= asks for one page only.
    french = (b"accept-language", b"fr")
    chosen = _pages(tmp_path).render(_request(headers=[(b"cookie", b"vc_lang=en"), french]), "page.html")
    assert "<h1>Health code</h1>" in bytes(chosen.body).decode()
    once = _pages(tmp_path).render(_request(b"lang=zh-Hant", [french]), "page.html")
    assert "<h1>健康碼</h1>" in bytes(once.body).decode()
    assert "set-cookie" not in once.headers


def test_large_type_is_one_class_on_the_root(tmp_path: Path) -> None:
    page = _pages(tmp_path).render(_request(headers=[(b"cookie", b"vc_large=1")]), "page.html")
    html = bytes(page.body).decode()
    assert '<html lang="zh-Hans" class="large' in html
    assert 'data-large-toggle aria-pressed="true"' in html
    css = (Path(__file__).resolve().parents[2] / "shared/static/venuecode.css").read_text(encoding="utf-8")
    assert "html.large { font-size: 34px; }" in css


def test_sign_in_comes_back_to_the_page() -> None:
    assert signed_in(_request()) is None
    assert signed_in(_request(headers=[(b"cookie", b"vc_session=expired")])) is None
    answer = sign_in_redirect(_request(b"band=normal"))
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{SIGN_IN_URL}?next=%2Fx%2Fpage%3Fband%3Dnormal"


def test_csv_opens_in_chinese_and_runs_no_formula() -> None:
    text = csv_text(("name", "n"), [[csv_safe("=HYPERLINK()"), 1], [csv_safe("開平"), 2]])
    assert text == "\ufeffname,n\r\n'=HYPERLINK(),1\r\n開平,2\r\n"

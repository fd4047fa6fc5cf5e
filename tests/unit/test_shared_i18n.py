"""shared.i18n: Accept-Language negotiation onto zh-Hant, zh-Hans and en, and the reason texts."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from shared.i18n import LANGUAGES, REASON_CODES, REASONS, language_of, negotiate, reason_text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # Nothing we speak: Simplified Chinese, Guangdong's own usage (issue 16).
        (None, "zh-Hans"),
        ("", "zh-Hans"),
        ("fr", "zh-Hans"),
        ("ja-JP, ko;q=0.8", "zh-Hans"),
        ("zh-TW", "zh-Hant"),
        ("zh-HK,en;q=0.5", "zh-Hant"),
        ("zh-Hant-MO", "zh-Hant"),
        ("zh-CN,zh;q=0.9", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("zh-Hans-SG", "zh-Hans"),
        ("en-GB", "en"),
        ("fr-FR, zh-HK;q=0.5, en;q=0.3", "zh-Hant"),
        ("en;q=0.2, zh-CN;q=0.9", "zh-Hans"),
        ("zh-TW;q=0.4, zh-CN;q=0.4", "zh-Hant"),  # equal quality: the first listed wins
        ("de, fr", "zh-Hans"),
        ("de, en;q=0.1", "en"),
        ("zh-CN;q=banana, en-US", "en"),  # an unreadable quality counts as zero
    ],
)
def test_negotiate(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def _request(query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/", "query_string": query, "headers": headers or []}
    )


def test_language_of_prefers_query_then_cookie_then_header() -> None:
    header = [(b"accept-language", b"zh-CN")]
    cookie = [(b"cookie", b"vc_lang=zh-Hant"), *header]
    assert language_of(_request(b"lang=en", cookie)) == "en"
    assert language_of(_request(b"", cookie)) == "zh-Hant"
    assert language_of(_request(b"", header)) == "zh-Hans"
    assert language_of(_request(b"lang=klingon", header)) == "zh-Hans"
    french = [(b"accept-language", b"fr-FR,fr;q=0.9")]
    assert language_of(_request(b"", french)) == "zh-Hans"
    assert language_of(_request(b"", [(b"cookie", b"vc_lang=en"), *french])) == "en"


def test_every_reason_has_every_language() -> None:
    for code, texts in REASONS.items():
        assert set(texts) == set(LANGUAGES), code
    assert "unknown" not in REASON_CODES
    assert reason_text("close_contact", "zh-Hant") == "密切接觸者"
    assert reason_text("not-a-reason", "en") == "not-a-reason"

"""Languages (zh-Hant, zh-Hans, en) and the texts every service shows: colour reasons.

The language comes from ``?lang=``, the ``vc_lang`` cookie, then ``Accept-Language``;
anything else falls back to Simplified Chinese, the usage of Guangdong, where the platform
runs (``FALLBACK``).
"""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request

Language = Literal["zh-Hant", "zh-Hans", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-Hant", "zh-Hans", "en")
LANG_COOKIE = "vc_lang"
FALLBACK: Language = "zh-Hans"

# One text in the three languages (shared/pages.py's ``text`` makes one).
Text = dict[Language, str]


_TRADITIONAL = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")
_SIMPLIFIED = ("zh-hans", "zh-cn", "zh-sg", "zh-my", "zh")

REASONS: dict[str, dict[Language, str]] = {
    "none": {"zh-Hant": "無異常", "zh-Hans": "无异常", "en": "No risk found"},
    "confirmed_case": {"zh-Hant": "確診病例", "zh-Hans": "确诊病例", "en": "Confirmed case"},
    "asymptomatic": {
        "zh-Hant": "無症狀感染者",
        "zh-Hans": "无症状感染者",
        "en": "Asymptomatic infection",
    },
    "suspected_case": {"zh-Hant": "疑似病例", "zh-Hans": "疑似病例", "en": "Suspected case"},
    "close_contact": {"zh-Hant": "密切接觸者", "zh-Hans": "密切接触者", "en": "Close contact"},
    "secondary_contact": {
        "zh-Hant": "次密切接觸者",
        "zh-Hans": "次密切接触者",
        "en": "Secondary close contact",
    },
    "risk_area_visit": {
        "zh-Hant": "到訪中高風險地區",
        "zh-Hans": "到访中高风险地区",
        "en": "Visited a risk area",
    },
    "fever_clinic": {
        "zh-Hant": "發熱門診就診",
        "zh-Hans": "发热门诊就诊",
        "en": "Fever clinic visit",
    },
    "unknown": {
        "zh-Hant": "暫時無法取得狀態",
        "zh-Hans": "暂时无法获取状态",
        "en": "Status temporarily unavailable",
    },
}
REASON_CODES = frozenset(REASONS) - {"unknown"}


def negotiate(header: str | None) -> Language:
    """The best of our three languages for an ``Accept-Language`` header."""
    if not header:
        return FALLBACK
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith(_TRADITIONAL):
            return "zh-Hant"
        if tag.startswith(_SIMPLIFIED):
            return "zh-Hans"
        if tag.startswith("en"):
            return "en"
    return FALLBACK


def language_of(request: Request) -> Language:
    """The request's language: ``?lang=``, else the ``vc_lang`` cookie, else ``Accept-Language``."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return negotiate(request.headers.get("accept-language"))


def reason_text(reason: str, language: Language) -> str:
    texts = REASONS.get(reason)
    return texts[language] if texts else reason

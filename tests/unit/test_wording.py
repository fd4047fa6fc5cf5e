"""The notice's words, as it writes them, on every page, template, poster, print and message:
打卡 for the scan (not 登記), 確認放行 for the inspector, 紙質碼 and 打印 (not Taiwan's 紙本
and 列印)."""

from __future__ import annotations

import re
from pathlib import Path

from services.checkin.pages import TEXTS as CHECKIN_TEXTS
from services.status.pages import TEXTS as STATUS_TEXTS
from shared.messages import catalogue

ROOT = Path(__file__).resolve().parents[2]
# Taiwan usage, and 登記 where the notice says 打卡 (the scan); 登記 for registering a person
# or a venue (實名登記, 登記場所) is the notice's own word and stays.
FORBIDDEN = (
    "紙本",
    "纸本",
    "列印",
    "网路",
    "網路",
    "確認登記",
    "确认登记",
    "掃碼登記",
    "扫码登记",
    "快速登記",
    "快速登记",
    "登記進入",
    "登记进入",
    "登記離開",
    "登记离开",
    "離開登記",
    "离开登记",
    "登記人員",
    "登记人员",
    "場所碼登記" + "（",  # never as the check-in page's title (the registry's home is a registry)
)
PLACES = (
    "services/*/templates/*.html",
    "shared/templates/*.html",
    "services/*/*.py",
    "shared/*.py",
    "services/*/static/*.js",
    "shared/static/*.js",
    "shared/catalogue/*.toml",
)


def test_no_forbidden_term_anywhere() -> None:
    files = [path for pattern in PLACES for path in ROOT.glob(pattern) if "bench" not in path.parts]
    assert len(files) > 60
    found = [
        f"{path.relative_to(ROOT)}:{number}: {term}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for term in FORBIDDEN
        if term in line
    ]
    assert not found, "\n".join(found)


def test_the_notice_terms_are_used() -> None:
    assert CHECKIN_TEXTS["release"]["zh-Hant"] == "確認放行"
    assert CHECKIN_TEXTS["release"]["zh-Hans"] == "确认放行"
    assert "打卡" in CHECKIN_TEXTS["confirm"]["zh-Hant"]
    assert "打卡" in CHECKIN_TEXTS["check_in"]["zh-Hans"]
    assert "紙質碼" in STATUS_TEXTS["paper_code"]["zh-Hant"]
    assert "纸质码" in STATUS_TEXTS["paper_code"]["zh-Hans"]
    assert "打印" in STATUS_TEXTS["paper_code"]["zh-Hant"]
    inspect = (ROOT / "services/checkin/templates/checkin_inspect.html").read_text(encoding="utf-8")
    assert re.search(r"data-confirm[^>]*>\{\{ t\('release'\) \}\}", inspect)
    assert catalogue().translate("Revoked paper code", "zh-Hant") == "紙質碼已作廢"

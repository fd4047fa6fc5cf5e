"""The check-in pages: the poster's phone page (/c/{venue_token}) and the inspector's reverse scan.

Pages are shells over the JSON API: their scripts (``/checkin/static/``) call it with the
session cookie and the CSRF header, so every rule stays in the API.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, HTMLResponse, Response

from services.checkin.services import ServicesDep
from shared.door import DOOR_TEXTS
from shared.errors import NotFound, Problem
from shared.i18n import language_of
from shared.pages import Pages, Text, sign_in_redirect, signed_in
from shared.pages import text as _t

router = APIRouter(include_in_schema=False)

TEXTS: dict[str, Text] = {
    **DOOR_TEXTS,
    "check_in": _t("場所碼打卡", "场所码打卡", "Venue check-in"),
    "who": _t("打卡人員", "打卡人员", "Who is entering"),
    "myself": _t("本人", "本人", "Myself"),
    "confirm": _t("確認打卡", "确认打卡", "Confirm check-in"),
    # The inspector lets the person in: the notice's words.
    "release": _t("確認放行", "确认放行", "Confirm entry"),
    "checked_in": _t("已打卡進入", "已打卡进入", "Checked in"),
    "check_out": _t("離場打卡", "离场打卡", "Check out"),
    "checked_out": _t("已打卡離場", "已打卡离场", "Checked out"),
    "code_green": _t("綠碼", "绿码", "Green code"),
    "code_yellow": _t("黃碼", "黄码", "Yellow code"),
    "code_red": _t("紅碼", "红码", "Red code"),
    "code_unknown": _t("狀態未知", "状态未知", "Status unknown"),
    "queued": _t(
        "網絡中斷：打卡已保存，網絡恢復後自動提交。",
        "网络中断：打卡已保存，网络恢复后自动提交。",
        "No network: the check-in is saved and will be sent when the network is back.",
    ),
    "live": _t("即時畫面，截圖無效", "实时画面，截图无效", "Live screen; screenshots are not valid"),
    "pick_someone": _t("請至少選擇一人。", "请至少选择一人。", "Tick at least one person."),
    "bad_code": _t("此場所碼無效。", "此场所码无效。", "This venue code is not valid."),
    "unknown_venue": _t("找不到此場所。", "找不到此场所。", "This venue is not registered."),
    "old_poster": _t(
        "此場所碼已更換，請通知工作人員打印並張貼新的場所碼。",
        "此场所码已更换，请通知工作人员打印并张贴新的场所码。",
        "This poster has been replaced. Please ask staff to print and put up the new venue code.",
    ),
    "inspect_title": _t("反向掃碼", "反向扫码", "Reverse scan"),
    "venue": _t("場所", "场所", "Venue"),
    "no_venues": _t(
        "您尚未綁定任何場所為檢測員。",
        "您尚未绑定任何场所为检测员。",
        "You are not bound to any venue as an inspector.",
    ),
    "scan_here": _t(
        "掃描健康碼（掃碼槍輸入或貼上）",
        "扫描健康码（扫码枪输入或粘贴）",
        "Scan a health code (scanner input or paste)",
    ),
    "camera": _t("用相機掃描", "用相机扫描", "Scan with the camera"),
    "next": _t("下一位", "下一位", "Next person"),
    "no_camera": _t(
        "此瀏覽器無法用相機掃碼：請用掃碼槍或粘貼健康碼。",
        "此浏览器无法用相机扫码：请用扫码枪或粘贴健康码。",
        "This browser cannot scan with the camera: use a scanner or paste the health code.",
    ),
    "relation_child": _t("子女", "子女", "child"),
    "relation_parent": _t("父母", "父母", "parent"),
    "relation_grandparent": _t("祖父母／外祖父母", "祖父母／外祖父母", "grandparent"),
    "relation_spouse": _t("配偶", "配偶", "spouse"),
    "relation_other": _t("家人", "家人", "family"),
}

_TITLES = {404: "unknown_venue", 410: "old_poster", 422: "bad_code"}


@cache
def _pages() -> Pages:
    return Pages(Path(__file__).parent / "templates", TEXTS)


@router.get("/c/{venue_token}", response_class=HTMLResponse)
async def scan_page(venue_token: str, request: Request, services: ServicesDep) -> Response:
    person = signed_in(request)
    if person is None:  # no session, or an expired one: sign in, then back here
        return sign_in_redirect(request)
    try:
        context = await services.scans.venue_page(person.person_id, venue_token)
    except Problem as problem:
        if problem.status_code not in _TITLES:
            raise
        return _pages().render(
            request,
            "checkin_problem.html",
            status_code=problem.status_code,
            message=_TITLES[problem.status_code],
        )
    language = language_of(request)

    def relation(value: str | None) -> str:
        """The relation a guardian chose, in the page's language; free text as written."""
        if not value:
            return ""
        key = f"relation_{value}"
        return _pages().text(key, language) if key in TEXTS else value

    return _pages().render(
        request,
        "checkin_scan.html",
        venue=context.venue,
        venue_token=venue_token,
        people=context.people,
        caller=person.person_id,
        relation=relation,
    )


@router.get("/checkin/inspect", response_class=HTMLResponse)
async def inspect_page(request: Request, services: ServicesDep) -> Response:
    person = signed_in(request)
    if person is None:  # no session, or an expired one: sign in, then back here
        return sign_in_redirect(request)
    venues = await services.scans.inspector_venues(person.person_id)
    return _pages().render(request, "checkin_inspect.html", venues=venues)


@router.get("/checkin/vendor/qr-decoder.js")
async def qr_decoder(services: ServicesDep) -> Response:
    """The JavaScript QR decoder of the reverse scan, read from node_modules (see config.py)."""
    path = services.qr_decoder
    if not path.is_file():
        raise NotFound("The QR decoder is not installed here (npm ci).")
    # Its version is pinned by package-lock.json; a day of caching spares a phone 250 kB a scan.
    cached = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(path, media_type="text/javascript", headers=cached)

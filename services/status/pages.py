"""The status pages: the person's health code, assisted lookup and the health authority's form.

Pages are shells: their scripts (``/status/static/``) call the JSON API with the session
cookie and the CSRF header, so every rule stays in the API.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from services.status.services import ServicesDep
from shared.door import DOOR_TEXTS
from shared.i18n import REASON_CODES, REASONS
from shared.pages import Pages, Text, signed_in
from shared.pages import text as _t

router = APIRouter(include_in_schema=False)
TEXTS: dict[str, Text] = {
    **DOOR_TEXTS,
    "health_code": _t("健康碼", "健康码", "Health code"),
    "whose": _t("顯示誰的健康碼", "显示谁的健康码", "Whose code"),
    "myself": _t("本人", "本人", "Myself"),
    "code_green": _t("綠碼", "绿码", "Green code"),
    "code_yellow": _t("黃碼", "黄码", "Yellow code"),
    "code_red": _t("紅碼", "红码", "Red code"),
    "code_unknown": _t("狀態未知", "状态未知", "Status unknown"),
    "refresh_note": _t(
        "二維碼每分鐘自動更新，截圖無效。",
        "二维码每分钟自动更新，截图无效。",
        "The QR code renews itself every minute; screenshots stop working.",
    ),
    "updated": _t("狀態更新於", "状态更新于", "Status since"),
    "paper_code": _t("打印紙質碼（PDF）", "打印纸质码（PDF）", "Print a paper code (PDF)"),
    "paper_note": _t(
        "打印新卡後，舊卡立即作廢。",
        "打印新卡后，旧卡立即作废。",
        "Printing a new card voids the previous one at once.",
    ),
    "signed_out": _t("請先登入。", "请先登录。", "Please sign in first."),
    "lookup_title": _t("老幼助查", "老幼助查", "Assisted lookup for elders and children"),
    "lookup_note": _t(
        "只限 60 歲或以上、或 16 歲及以下的居民身份證持有人。結果及其健康碼顯示 10 秒後清除。",
        "只限 60 岁或以上、或 16 岁及以下的居民身份证持有人。结果及其健康码显示 10 秒后清除。",
        "Only for mainland resident ID holders aged 60 or over, or 16 or under. "
        "The result and its health code are shown for 10 seconds, then cleared.",
    ),
    "name": _t("姓名", "姓名", "Full name"),
    "id_number": _t("居民身份證號碼", "居民身份证号码", "Resident ID number"),
    "look_up": _t("查詢", "查询", "Look up"),
    "clears_in": _t("秒後清除", "秒后清除", "seconds until cleared"),
    "lookup_qr": _t(
        "此人的健康碼（10 秒內有效）", "此人的健康码（10 秒内有效）", "Their health code (valid 10 s)"
    ),
    "entry_venue": _t("放行場所", "放行场所", "Entry into"),
    "not_found": _t(
        "找不到以此姓名及證件號碼註冊的人。",
        "找不到以此姓名及证件号码注册的人。",
        "No registered person has this name and identity number.",
    ),
    "register_title": _t("即場登記", "即场登记", "Register on the spot"),
    "register_note": _t(
        "此人尚未登記。檢測員可憑其身份證即場登記（無需手機及密碼）；本人日後用此證件註冊或由家人添加即可接管。",
        "此人尚未登记。检测员可凭其身份证即场登记（无需手机及密码）；本人日后用此证件注册或由家人添加即可接管。",
        "This person is not registered. As an inspector you can register them from their ID card"
        " (no phone, no password); they or a family member can take the record over later.",
    ),
    "birth_date": _t("出生日期（與證件相同）", "出生日期（与证件相同）", "Date of birth (as on the card)"),
    "register": _t("登記此人", "登记此人", "Register this person"),
    "registered": _t(
        "已登記，正在查詢其健康碼…", "已登记，正在查询其健康码…", "Registered; looking up their health code…"
    ),
    "authority_title": _t("設定健康碼狀態", "设定健康码状态", "Set a health-code status"),
    "not_authority": _t(
        "此頁只供衛生健康部門使用。",
        "此页只供卫生健康部门使用。",
        "This page is for the health authority only.",
    ),
    "person_id": _t("人員編號（person_id）", "人员编号（person_id）", "Person id"),
    "colour": _t("顏色", "颜色", "Colour"),
    "green": _t("綠", "绿", "Green"),
    "yellow": _t("黃", "黄", "Yellow"),
    "red": _t("紅", "红", "Red"),
    "reason": _t("原因", "原因", "Reason"),
    "valid_until": _t("有效至（選填）", "有效至（选填）", "Valid until (optional)"),
    "note": _t("備註（選填）", "备注（选填）", "Note (optional)"),
    "save": _t("保存", "保存", "Save"),
    "saved": _t("已保存，版本", "已保存，版本", "Saved, version"),
}


@cache
def _pages() -> Pages:
    return Pages(Path(__file__).parent / "templates", TEXTS)


@router.get("/status/health-code", response_class=HTMLResponse)
async def health_code_page(request: Request, svc: ServicesDep) -> HTMLResponse:
    caller = signed_in(request)
    dependents: list[tuple[str, str]] = []
    if caller is not None:
        found = await svc.codes.dependents(caller.person_id)
        dependents = [(str(d.person_id), d.masked_name) for d in found]
    return _pages().render(
        request,
        "status_health_code.html",
        caller=caller,
        dependents=dependents,
    )


@router.get("/status/assisted-lookup", response_class=HTMLResponse)
async def assisted_lookup_page(request: Request) -> HTMLResponse:
    return _pages().render(request, "status_lookup.html", caller=signed_in(request))


@router.get("/status/authority", response_class=HTMLResponse)
async def authority_page(request: Request) -> HTMLResponse:
    caller = signed_in(request)
    allowed = caller is not None and caller.has("health_authority")
    reasons = [(code, REASONS[code]) for code in sorted(REASON_CODES)]
    return _pages().render(
        request,
        "status_authority.html",
        status_code=200 if allowed or caller is None else 403,
        caller=caller,
        allowed=allowed,
        reasons=reasons,
    )

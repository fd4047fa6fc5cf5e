"""The epidemiologist console page; its data comes from the API through ``static/console.js``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.tracing.api_compliance import compliance_body, follow_up_role
from services.tracing.services import Services, ServicesDep
from shared.auth import authenticate
from shared.errors import Problem, Unauthorized
from shared.i18n import REASON_CODES, Language, reason_text
from shared.localtime import shanghai_minute
from shared.pages import Pages, Text, signed_in
from shared.pages import text as _t
from shared.regions import PICKER_TEXTS, picker
from shared.returnto import with_next

router = APIRouter(include_in_schema=False)

TEXTS: dict[str, Text] = {
    "console_title": _t("流調控制台", "流调控制台", "Contact tracing console"),
    "case": _t("病例 person_id", "病例 person_id", "Case person_id"),
    "id_kind": _t("證件類型", "证件类型", "Document"),
    "mainland_id": _t("居民身份證", "居民身份证", "Mainland resident ID"),
    "hk_macao_permit": _t("港澳通行證", "港澳通行证", "Hong Kong / Macao permit"),
    "taiwan_permit": _t("台灣通行證", "台湾通行证", "Taiwan permit"),
    "passport": _t("護照", "护照", "Passport"),
    "foreign_permanent_resident": _t(
        "外國人永久居留身份證", "外国人永久居留身份证", "Foreign permanent resident ID"
    ),
    "id_number": _t("證件號碼", "证件号码", "Document number"),
    "find": _t("按證件查找病例", "按证件查找病例", "Find the case"),
    "from": _t("開始時間", "开始时间", "From"),
    "to": _t("結束時間", "结束时间", "To"),
    "dwell": _t(
        "停留分鐘（留空按場所類別）",
        "停留分钟（留空按场所类别）",
        "Dwell minutes (blank: the venue's typical stay)",
    ),
    "min_overlap": _t("最少重疊分鐘", "最少重叠分钟", "Minimum overlap (minutes)"),
    "depth": _t("追蹤層數", "追踪层数", "Depth"),
    "depth_1": _t("1：密切接觸者", "1：密切接触者", "1: close contacts"),
    "depth_2": _t("2：加上次密切接觸者", "2：加上次密切接触者", "2: and secondary contacts"),
    "run": _t("查詢", "查询", "Run query"),
    "results": _t("結果", "结果", "Results"),
    "case_visits": _t("病例到訪", "病例到访", "Case visits"),
    "contacts": _t("接觸者", "接触者", "Contacts"),
    "person": _t("人員", "人员", "Person"),
    "venue": _t("場所", "场所", "Venue"),
    "contact_in": _t("接觸者入場", "接触者入场", "Contact checked in"),
    "case_in": _t("病例入場", "病例入场", "Case checked in"),
    "overlap": _t("重疊（分鐘）", "重叠（分钟）", "Overlap (min)"),
    "timeline": _t("時間線", "时间线", "Timeline"),
    "graph": _t("接觸關係圖", "接触关系图", "Contact graph"),
    "download": _t("下載 CSV", "下载 CSV", "Download CSV"),
    "notify": _t("通知接觸者", "通知接触者", "Notify contacts"),
    "colour": _t("賦碼顏色", "赋码颜色", "Colour"),
    "reason": _t("原因", "原因", "Reason"),
    "confirm_notify": _t(
        "確定向以下人數發出狀態變更？",
        "确定向以下人数发出状态变更？",
        "Send a status change to this many people?",
    ),
    "confirm": _t("確定發出", "确定发出", "Confirm and send"),
    "cancel": _t("取消", "取消", "Cancel"),
    "sent": _t("已發出", "已发出", "Sent"),
    "none_found": _t("未找到接觸者", "未找到接触者", "No contacts found"),
    "colour_green": _t("綠碼", "绿码", "Green"),
    "colour_yellow": _t("黃碼", "黄码", "Yellow"),
    "colour_red": _t("紅碼", "红码", "Red"),
}

# The outbreak picture (outbreak.html): its own texts, beside the console's.
OUTBREAK_TEXTS: dict[str, Text] = {
    "outbreak_title": _t("疫情群組分析", "疫情聚集分析", "Outbreak picture"),
    "cases": _t(
        "病例 person_id（每行一個，2 至 500 個）",
        "病例 person_id（每行一个，2 至 500 个）",
        "Case person_ids (one a line, 2 to 500)",
    ),
    "gap": _t("相隔不超過（分鐘）", "相隔不超过（分钟）", "Close within (minutes)"),
    "analyse": _t("分析共同暴露", "分析共同暴露", "Find common exposures"),
    "exposures": _t("共同暴露場所時段", "共同暴露场所时段", "Shared venue-windows"),
    "case_count": _t("病例數", "病例数", "Cases"),
    "case_timelines": _t("病例時間線", "病例时间线", "Timeline per case"),
    "venue_time": _t("場所 × 時間", "场所 × 时间", "Venue × time"),
    "no_exposure": _t("未找到共同暴露", "未找到共同暴露", "No shared exposure found"),
    "starts": _t("開始", "开始", "From"),
    "ends": _t("結束", "结束", "To"),
    "download_exposures": _t("下載共同暴露 CSV", "下载共同暴露 CSV", "Exposures CSV"),
    "download_edges": _t("下載接觸關係 CSV", "下载接触关系 CSV", "Contact edges CSV"),
    "venue_alerts": _t("場所預警", "场所预警", "Venue alerts"),
    "alert_rule": _t(
        "到訪者轉為黃碼（風險地區到訪）須由另一位衛生主管部門人員批准；撤回只恢復本預警所改的狀態。",
        "到访者转为黄码（风险地区到访）须由另一位卫生主管部门人员批准；撤回只恢复本预警所改的状态。",
        "Everyone present turns yellow (risk area visit) only once another person of the health"
        " authority approves; withdrawing restores only what the alert changed.",
    ),
    "note": _t("備註", "备注", "Note"),
    "create_alert": _t("建立預警", "建立预警", "Create the alert"),
    "open_alert": _t("打開預警", "打开预警", "Open an alert"),
    "pending_alerts": _t("待批准的預警", "待批准的预警", "Alerts awaiting approval"),
    "approve_alert": _t("批准（第二人）", "批准（第二人）", "Approve (second person)"),
    "withdraw_alert": _t("撤回預警", "撤回预警", "Withdraw the alert"),
    "confirm_alert": _t(
        "確定變更以下人數的狀態？", "确定变更以下人数的状态？", "Change the status of this many people?"
    ),
    "download_graphml": _t(
        "下載 GraphML（Gephi、Cytoscape）", "下载 GraphML（Gephi、Cytoscape）", "GraphML (Gephi, Cytoscape)"
    ),
}


VISIT_TEXTS: dict[str, dict[Language, str]] = {
    "visits_title": _t("打卡記錄", "打卡记录", "My check-ins"),
    "visits_note": _t(
        "最近 21 天你本人的場所打卡，時間為北京時間。更早的記錄已按規定刪除。",
        "最近 21 天你本人的场所打卡，时间为北京时间。更早的记录已按规定删除。",
        "Your own venue check-ins of the last 21 days, in China Standard Time. Older ones are deleted.",
    ),
    "visits_none": _t(
        "最近 21 天沒有打卡記錄。", "最近 21 天没有打卡记录。", "No check-ins in the last 21 days."
    ),
    "visits_signed_out": _t("請先登入。", "请先登录。", "Please sign in first."),
    "unknown_venue": _t("（場所資料尚未同步）", "（场所资料尚未同步）", "(venue not known yet)"),
    "entered": _t("進入", "进入", "In"),
    "left": _t("離開", "离开", "Out"),
    "method_self_scan": _t("本人掃碼", "本人扫码", "Scanned myself"),
    "method_proxy_scan": _t("家人代掃", "家人代扫", "Scanned by family"),
    "method_inspector_scan": _t("檢測員掃碼", "检测员扫码", "Scanned by an inspector"),
    "method_paper_code": _t("紙質碼", "纸质码", "Paper code"),
    "colour_green": _t("綠碼", "绿码", "Green code"),
    "colour_yellow": _t("黃碼", "黄码", "Yellow code"),
    "colour_red": _t("紅碼", "红码", "Red code"),
    "colour_unknown": _t("狀態未知", "状态未知", "Status unknown"),
}
# The compliance view (issue 16): rendered by the server, so it needs no script at all.
COMPLIANCE_TEXTS: dict[str, dict[Language, str]] = {
    "compliance_title": _t("場所碼使用督查", "场所码使用督查", "Venue-code compliance"),
    "compliance_intro": _t(
        "列出所選地區內近 N 天沒有掃碼、或從未打印現行場所碼的場所，供衛生健康部門跟進。",
        "列出所选地区内近 N 天没有扫码、或从未打印现行场所码的场所，供卫生健康部门跟进。",
        "Venues in the region with no scan in the last N days, or whose current poster was never"
        " printed, for the health authority to follow up.",
    ),
    "days": _t("天數 N（1 至 90）", "天数 N（1 至 90）", "Days N (1 to 90)"),
    "show": _t("查看", "查看", "Show"),
    "venue_name": _t("場所", "场所", "Venue"),
    "address": _t("地址", "地址", "Address"),
    "last_scan": _t("最近掃碼（北京時間）", "最近扫码（北京时间）", "Last scan (Beijing time)"),
    "why": _t("問題", "问题", "Why listed"),
    "never_scanned": _t("從未有人掃碼", "从未有人扫码", "Never scanned"),
    "no_recent_scan": _t("近期無人掃碼", "近期无人扫码", "No recent scan"),
    "poster_not_printed": _t("場所碼未打印", "场所码未打印", "Poster not printed"),
    "never": _t("從未", "从未", "Never"),
    "next_page": _t("下一頁", "下一页", "Next page"),
    "nothing_lagging": _t("沒有需要跟進的場所。", "没有需要跟进的场所。", "No venue to follow up."),
    "need_role": _t(
        "此頁只供運營人員及衛生健康部門使用，請以相應帳號登入。",
        "此页只供运营人员及卫生健康部门使用，请以相应账号登录。",
        "This page is for operators and the health authority: sign in with such an account.",
    ),
}

_pages = Pages(
    Path(__file__).parent / "templates",
    {**TEXTS, **OUTBREAK_TEXTS, **VISIT_TEXTS, **COMPLIANCE_TEXTS, **PICKER_TEXTS},
)


@router.get("/tracing/console", response_class=HTMLResponse)
async def console(request: Request) -> HTMLResponse:
    return _pages.render(request, "console.html", reasons=sorted(REASON_CODES), reason_text=reason_text)


@router.get("/tracing/outbreak", response_class=HTMLResponse)
async def outbreak(request: Request) -> HTMLResponse:
    return _pages.render(request, "outbreak.html")


@router.get("/tracing/visits", response_class=HTMLResponse)
async def visits(request: Request, services: ServicesDep) -> HTMLResponse:
    """The citizen's own check-ins of the retention window, newest first (API: GET /me/visits)."""
    caller = signed_in(request)  # an expired cookie: the page opens signed out and renews it
    found = []
    if caller is not None:
        found = list(reversed(await services.tracing.own_visits(caller.person_id, None, None)))
    return _pages.render(
        request,
        "visits.html",
        signed_in=caller is not None,
        visits=found,
        local_time=shanghai_minute,
        login=with_next("/registry/login", "/tracing/visits"),
    )


@router.get("/tracing/compliance", response_class=HTMLResponse)
async def compliance(request: Request) -> HTMLResponse:
    """Server-rendered from the same service as ``GET /api/tracing/v1/compliance/venues``."""
    query = request.query_params
    chosen = picker(query.get("province"), query.get("city"), query.get("region"))
    try:
        principal = authenticate(request)
        if principal is None:
            raise Unauthorized()
        follow_up_role(principal)
        days = int(query.get("days") or 7)
        services: Services = request.app.state.services
        page = await services.compliance.lagging(chosen.chosen, days, query.get("after"), 50)
    except (Problem, ValueError) as exc:
        status = exc.status_code if isinstance(exc, Problem) else 422
        message = exc.detail if isinstance(exc, Problem) and status == 422 else None
        return _pages.render(
            request, "compliance.html", status_code=status, picker=chosen, page=None, error=message, days=7
        )
    return _pages.render(
        request,
        "compliance.html",
        picker=chosen,
        page=compliance_body(page),
        error=None,
        days=days,
        when=shanghai_minute,
    )

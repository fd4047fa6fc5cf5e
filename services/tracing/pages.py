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
from shared.regions import PICKER_TEXTS, picker
from shared.returnto import with_next

router = APIRouter(include_in_schema=False)

TEXTS: dict[str, Text] = {
    "console_title": {"zh-Hant": "流調控制台", "zh-Hans": "流调控制台", "en": "Contact tracing console"},
    "case": {"zh-Hant": "病例 person_id", "zh-Hans": "病例 person_id", "en": "Case person_id"},
    "id_kind": {"zh-Hant": "證件類型", "zh-Hans": "证件类型", "en": "Document"},
    "mainland_id": {"zh-Hant": "居民身份證", "zh-Hans": "居民身份证", "en": "Mainland resident ID"},
    "hk_macao_permit": {"zh-Hant": "港澳通行證", "zh-Hans": "港澳通行证", "en": "Hong Kong / Macao permit"},
    "taiwan_permit": {"zh-Hant": "台灣通行證", "zh-Hans": "台湾通行证", "en": "Taiwan permit"},
    "passport": {"zh-Hant": "護照", "zh-Hans": "护照", "en": "Passport"},
    "foreign_permanent_resident": {
        "zh-Hant": "外國人永久居留身份證",
        "zh-Hans": "外国人永久居留身份证",
        "en": "Foreign permanent resident ID",
    },
    "id_number": {"zh-Hant": "證件號碼", "zh-Hans": "证件号码", "en": "Document number"},
    "find": {"zh-Hant": "按證件查找病例", "zh-Hans": "按证件查找病例", "en": "Find the case"},
    "from": {"zh-Hant": "開始時間", "zh-Hans": "开始时间", "en": "From"},
    "to": {"zh-Hant": "結束時間", "zh-Hans": "结束时间", "en": "To"},
    "dwell": {
        "zh-Hant": "停留分鐘（留空按場所類別）",
        "zh-Hans": "停留分钟（留空按场所类别）",
        "en": "Dwell minutes (blank: the venue's typical stay)",
    },
    "min_overlap": {"zh-Hant": "最少重疊分鐘", "zh-Hans": "最少重叠分钟", "en": "Minimum overlap (minutes)"},
    "depth": {"zh-Hant": "追蹤層數", "zh-Hans": "追踪层数", "en": "Depth"},
    "depth_1": {"zh-Hant": "1：密切接觸者", "zh-Hans": "1：密切接触者", "en": "1: close contacts"},
    "depth_2": {
        "zh-Hant": "2：加上次密切接觸者",
        "zh-Hans": "2：加上次密切接触者",
        "en": "2: and secondary contacts",
    },
    "run": {"zh-Hant": "查詢", "zh-Hans": "查询", "en": "Run query"},
    "results": {"zh-Hant": "結果", "zh-Hans": "结果", "en": "Results"},
    "case_visits": {"zh-Hant": "病例到訪", "zh-Hans": "病例到访", "en": "Case visits"},
    "contacts": {"zh-Hant": "接觸者", "zh-Hans": "接触者", "en": "Contacts"},
    "person": {"zh-Hant": "人員", "zh-Hans": "人员", "en": "Person"},
    "venue": {"zh-Hant": "場所", "zh-Hans": "场所", "en": "Venue"},
    "contact_in": {"zh-Hant": "接觸者入場", "zh-Hans": "接触者入场", "en": "Contact checked in"},
    "case_in": {"zh-Hant": "病例入場", "zh-Hans": "病例入场", "en": "Case checked in"},
    "overlap": {"zh-Hant": "重疊（分鐘）", "zh-Hans": "重叠（分钟）", "en": "Overlap (min)"},
    "timeline": {"zh-Hant": "時間線", "zh-Hans": "时间线", "en": "Timeline"},
    "graph": {"zh-Hant": "接觸關係圖", "zh-Hans": "接触关系图", "en": "Contact graph"},
    "download": {"zh-Hant": "下載 CSV", "zh-Hans": "下载 CSV", "en": "Download CSV"},
    "notify": {"zh-Hant": "通知接觸者", "zh-Hans": "通知接触者", "en": "Notify contacts"},
    "colour": {"zh-Hant": "賦碼顏色", "zh-Hans": "赋码颜色", "en": "Colour"},
    "reason": {"zh-Hant": "原因", "zh-Hans": "原因", "en": "Reason"},
    "confirm_notify": {
        "zh-Hant": "確定向以下人數發出狀態變更？",
        "zh-Hans": "确定向以下人数发出状态变更？",
        "en": "Send a status change to this many people?",
    },
    "confirm": {"zh-Hant": "確定發出", "zh-Hans": "确定发出", "en": "Confirm and send"},
    "cancel": {"zh-Hant": "取消", "zh-Hans": "取消", "en": "Cancel"},
    "sent": {"zh-Hant": "已發出", "zh-Hans": "已发出", "en": "Sent"},
    "none_found": {"zh-Hant": "未找到接觸者", "zh-Hans": "未找到接触者", "en": "No contacts found"},
    "colour_green": {"zh-Hant": "綠碼", "zh-Hans": "绿码", "en": "Green"},
    "colour_yellow": {"zh-Hant": "黃碼", "zh-Hans": "黄码", "en": "Yellow"},
    "colour_red": {"zh-Hant": "紅碼", "zh-Hans": "红码", "en": "Red"},
}

# The outbreak picture (outbreak.html): its own texts, beside the console's.
OUTBREAK_TEXTS: dict[str, Text] = {
    "outbreak_title": {"zh-Hant": "疫情群組分析", "zh-Hans": "疫情聚集分析", "en": "Outbreak picture"},
    "cases": {
        "zh-Hant": "病例 person_id（每行一個，2 至 500 個）",
        "zh-Hans": "病例 person_id（每行一个，2 至 500 个）",
        "en": "Case person_ids (one a line, 2 to 500)",
    },
    "gap": {
        "zh-Hant": "相隔不超過（分鐘）",
        "zh-Hans": "相隔不超过（分钟）",
        "en": "Close within (minutes)",
    },
    "analyse": {"zh-Hant": "分析共同暴露", "zh-Hans": "分析共同暴露", "en": "Find common exposures"},
    "exposures": {"zh-Hant": "共同暴露場所時段", "zh-Hans": "共同暴露场所时段", "en": "Shared venue-windows"},
    "case_count": {"zh-Hant": "病例數", "zh-Hans": "病例数", "en": "Cases"},
    "case_timelines": {"zh-Hant": "病例時間線", "zh-Hans": "病例时间线", "en": "Timeline per case"},
    "venue_time": {"zh-Hant": "場所 × 時間", "zh-Hans": "场所 × 时间", "en": "Venue × time"},
    "no_exposure": {
        "zh-Hant": "未找到共同暴露",
        "zh-Hans": "未找到共同暴露",
        "en": "No shared exposure found",
    },
    "starts": {"zh-Hant": "開始", "zh-Hans": "开始", "en": "From"},
    "ends": {"zh-Hant": "結束", "zh-Hans": "结束", "en": "To"},
    "download_exposures": {
        "zh-Hant": "下載共同暴露 CSV",
        "zh-Hans": "下载共同暴露 CSV",
        "en": "Exposures CSV",
    },
    "download_edges": {
        "zh-Hant": "下載接觸關係 CSV",
        "zh-Hans": "下载接触关系 CSV",
        "en": "Contact edges CSV",
    },
    "venue_alerts": {"zh-Hant": "場所預警", "zh-Hans": "场所预警", "en": "Venue alerts"},
    "alert_rule": {
        "zh-Hant": "到訪者轉為黃碼（風險地區到訪）須由另一位衛生主管部門人員批准；"
        "撤回只恢復本預警所改的狀態。",
        "zh-Hans": "到访者转为黄码（风险地区到访）须由另一位卫生主管部门人员批准；"
        "撤回只恢复本预警所改的状态。",
        "en": "Everyone present turns yellow (risk area visit) only once another person of the health"
        " authority approves; withdrawing restores only what the alert changed.",
    },
    "note": {"zh-Hant": "備註", "zh-Hans": "备注", "en": "Note"},
    "create_alert": {"zh-Hant": "建立預警", "zh-Hans": "建立预警", "en": "Create the alert"},
    "open_alert": {"zh-Hant": "打開預警", "zh-Hans": "打开预警", "en": "Open an alert"},
    "pending_alerts": {
        "zh-Hant": "待批准的預警",
        "zh-Hans": "待批准的预警",
        "en": "Alerts awaiting approval",
    },
    "approve_alert": {
        "zh-Hant": "批准（第二人）",
        "zh-Hans": "批准（第二人）",
        "en": "Approve (second person)",
    },
    "withdraw_alert": {"zh-Hant": "撤回預警", "zh-Hans": "撤回预警", "en": "Withdraw the alert"},
    "confirm_alert": {
        "zh-Hant": "確定變更以下人數的狀態？",
        "zh-Hans": "确定变更以下人数的状态？",
        "en": "Change the status of this many people?",
    },
    "download_graphml": {
        "zh-Hant": "下載 GraphML（Gephi、Cytoscape）",
        "zh-Hans": "下载 GraphML（Gephi、Cytoscape）",
        "en": "GraphML (Gephi, Cytoscape)",
    },
}


def _v(hant: str, hans: str, en: str) -> dict[Language, str]:
    return {"zh-Hant": hant, "zh-Hans": hans, "en": en}


VISIT_TEXTS: dict[str, dict[Language, str]] = {
    "visits_title": _v("打卡記錄", "打卡记录", "My check-ins"),
    "visits_note": _v(
        "最近 21 天你本人的場所打卡，時間為北京時間。更早的記錄已按規定刪除。",
        "最近 21 天你本人的场所打卡，时间为北京时间。更早的记录已按规定删除。",
        "Your own venue check-ins of the last 21 days, in China Standard Time. Older ones are deleted.",
    ),
    "visits_none": _v(
        "最近 21 天沒有打卡記錄。", "最近 21 天没有打卡记录。", "No check-ins in the last 21 days."
    ),
    "visits_signed_out": _v("請先登入。", "请先登录。", "Please sign in first."),
    "unknown_venue": _v("（場所資料尚未同步）", "（场所资料尚未同步）", "(venue not known yet)"),
    "entered": _v("進入", "进入", "In"),
    "left": _v("離開", "离开", "Out"),
    "method_self_scan": _v("本人掃碼", "本人扫码", "Scanned myself"),
    "method_proxy_scan": _v("家人代掃", "家人代扫", "Scanned by family"),
    "method_inspector_scan": _v("檢測員掃碼", "检测员扫码", "Scanned by an inspector"),
    "method_paper_code": _v("紙質碼", "纸质码", "Paper code"),
    "colour_green": _v("綠碼", "绿码", "Green code"),
    "colour_yellow": _v("黃碼", "黄码", "Yellow code"),
    "colour_red": _v("紅碼", "红码", "Red code"),
    "colour_unknown": _v("狀態未知", "状态未知", "Status unknown"),
}
# The compliance view (issue 16): rendered by the server, so it needs no script at all.
COMPLIANCE_TEXTS: dict[str, dict[Language, str]] = {
    "compliance_title": {
        "zh-Hant": "場所碼使用督查",
        "zh-Hans": "场所码使用督查",
        "en": "Venue-code compliance",
    },
    "compliance_intro": {
        "zh-Hant": "列出所選地區內近 N 天沒有掃碼、或從未打印現行場所碼的場所，供衛生健康部門跟進。",
        "zh-Hans": "列出所选地区内近 N 天没有扫码、或从未打印现行场所码的场所，供卫生健康部门跟进。",
        "en": "Venues in the region with no scan in the last N days, or whose current poster was never"
        " printed, for the health authority to follow up.",
    },
    "days": {"zh-Hant": "天數 N（1 至 90）", "zh-Hans": "天数 N（1 至 90）", "en": "Days N (1 to 90)"},
    "show": {"zh-Hant": "查看", "zh-Hans": "查看", "en": "Show"},
    "venue_name": {"zh-Hant": "場所", "zh-Hans": "场所", "en": "Venue"},
    "address": {"zh-Hant": "地址", "zh-Hans": "地址", "en": "Address"},
    "last_scan": {
        "zh-Hant": "最近掃碼（北京時間）",
        "zh-Hans": "最近扫码（北京时间）",
        "en": "Last scan (Beijing time)",
    },
    "why": {"zh-Hant": "問題", "zh-Hans": "问题", "en": "Why listed"},
    "never_scanned": {"zh-Hant": "從未有人掃碼", "zh-Hans": "从未有人扫码", "en": "Never scanned"},
    "no_recent_scan": {"zh-Hant": "近期無人掃碼", "zh-Hans": "近期无人扫码", "en": "No recent scan"},
    "poster_not_printed": {"zh-Hant": "場所碼未打印", "zh-Hans": "场所码未打印", "en": "Poster not printed"},
    "never": {"zh-Hant": "從未", "zh-Hans": "从未", "en": "Never"},
    "next_page": {"zh-Hant": "下一頁", "zh-Hans": "下一页", "en": "Next page"},
    "nothing_lagging": {
        "zh-Hant": "沒有需要跟進的場所。",
        "zh-Hans": "没有需要跟进的场所。",
        "en": "No venue to follow up.",
    },
    "need_role": {
        "zh-Hant": "此頁只供運營人員及衛生健康部門使用，請以相應帳號登入。",
        "zh-Hans": "此页只供运营人员及卫生健康部门使用，请以相应账号登录。",
        "en": "This page is for operators and the health authority: sign in with such an account.",
    },
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

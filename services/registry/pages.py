"""The registry's pages: home, register, sign in, family, venue administrator and inspector.

Pages are shells: their scripts (``/registry/static/``) call the JSON API with the session
cookie and the CSRF header, so every rule stays in one place, the API.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import get_args

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from services.registry.models import RELATIONS, Category
from services.registry.service import STAFF_ROLES
from services.registry.services import ServicesDep
from shared.events import IdKind
from shared.pages import Pages, Text, signed_in
from shared.pages import text as _t
from shared.regions import PICKER_TEXTS, picker
from shared.returnto import safe_next, with_next

router = APIRouter(include_in_schema=False)

TEXTS: dict[str, Text] = {
    "home_title": _t("場所碼登記", "场所码登记", "Venue code registry"),
    "home_intro": _t(
        "實名登記後，可以管理場所、成為檢測員，並為家人代辦。",
        "实名登记后，可以管理场所、成为检测员，并为家人代办。",
        "After real-name registration you can run a venue, become an inspector and act for your family.",
    ),
    "register": _t("實名註冊", "实名注册", "Register"),
    "login": _t("登入", "登录", "Sign in"),
    "logout": _t("登出", "退出", "Sign out"),
    "family": _t("家庭成員", "家庭成员", "Family members"),
    "venue": _t("場所管理", "场所管理", "My venue"),
    "inspector": _t("檢測員", "检测员", "Inspector"),
    "name": _t("姓名", "姓名", "Full name"),
    "id_kind": _t("證件類型", "证件类型", "Document"),
    "kind_mainland_id": _t("居民身份證", "居民身份证", "Resident ID card"),
    "kind_hk_macao_permit": _t(
        "港澳居民來往內地通行證", "港澳居民来往内地通行证", "Hong Kong / Macao permit"
    ),
    "kind_taiwan_permit": _t("台灣居民來往大陸通行證", "台湾居民来往大陆通行证", "Taiwan permit"),
    "kind_passport": _t("護照", "护照", "Passport"),
    "kind_foreign_permanent_resident": _t(
        "外國人永久居留身份證", "外国人永久居留身份证", "Foreign permanent resident ID card"
    ),
    "id_number": _t("證件號碼", "证件号码", "Document number"),
    "phone": _t("手機號碼", "手机号码", "Mobile number"),
    "password": _t("密碼（8 至 128 位）", "密码（8 至 128 位）", "Password (8 to 128 characters)"),
    "have_account": _t("已有帳號？登入", "已有账号？登录", "Have an account? Sign in"),
    "no_account": _t("還沒有帳號？實名註冊", "还没有账号？实名注册", "No account yet? Register"),
    "proofing_note": _t(
        "本系統只檢查證件號碼格式，不做人臉識別或與公安身份系統核驗。",
        "本系统只检查证件号码格式，不做人脸识别或与公安身份系统核验。",
        "Only the document number's format is checked here; no face or identity-service verification.",
    ),
    "signed_out": _t("請先登入。", "请先登录。", "Please sign in first."),
    "saved": _t("已保存", "已保存", "Saved"),
    "add_family": _t("添加家庭成員", "添加家庭成员", "Add a family member"),
    "relation": _t("關係", "关系", "Relation"),
    "relation_child": _t("子女", "子女", "Child"),
    "relation_parent": _t("父母", "父母", "Parent"),
    "relation_grandparent": _t("祖父母／外祖父母", "祖父母／外祖父母", "Grandparent"),
    "relation_spouse": _t("配偶", "配偶", "Spouse"),
    "relation_other": _t("其他", "其他", "Other"),
    "add": _t("添加", "添加", "Add"),
    "my_family": _t("我的家庭成員", "我的家庭成员", "My family members"),
    "none_yet": _t("暫無", "暂无", "None yet"),
    "my_guardians": _t("可為我代辦的人", "可为我代办的人", "Who may act for me"),
    "state_pending": _t("等待對方同意", "等待对方同意", "Waiting for their consent"),
    "state_active": _t("已生效", "已生效", "Active"),
    "guardian_asks": _t("請求成為你的監護人", "请求成为你的监护人", "asks to act for you"),
    "notice": _t(
        "同意後，對方可以：查看你的健康碼、為你打印紙質碼（你原有的紙質碼隨即失效）、為你掃碼打卡。你隨時可以撤銷。",
        "同意后，对方可以：查看你的健康码、为你打印纸质码（你原有的纸质码随即失效）、为你扫码打卡。你随时可以撤销。",
        "If you accept, they can read your health code, print a paper code for you (your own paper"
        " card then stops working) and check you in. You can revoke this at any time.",
    ),
    "accept": _t("同意", "同意", "Accept"),
    "decline": _t("拒絕", "拒绝", "Decline"),
    "revoke": _t("撤銷", "撤销", "Revoke"),
    "unlink": _t("解除關聯", "解除关联", "Unlink"),
    "withdraw": _t("撤回請求", "撤回请求", "Withdraw the request"),
    "family_rule": _t(
        "未滿 18 歲的兒童或 60 歲以上的長者（以居民身份證為準）如沒有帳號，添加後即由你代辦；"
        "已有帳號的人會收到你的請求，須在自己的帳號中同意。其他成年人請先自行註冊。",
        "未满 18 岁的儿童或 60 岁以上的老人（以居民身份证为准）如没有账号，添加后即由你代办；"
        "已有账号的人会收到你的请求，须在自己的账号中同意。其他成年人请先自行注册。",
        "A child under 18 or an elder of 60 or over (as the resident ID shows) without an account is"
        " yours to act for at once; a person with an account gets your request and must accept it"
        " in their own account. Other adults register first.",
    ),
    "create_venue": _t("登記場所", "登记场所", "Register a venue"),
    "region_code": _t("行政區劃代碼（6 位）", "行政区划代码（6 位）", "Region code (6 digits)"),
    "handover": _t("移交場所", "移交场所", "Hand the venue over"),
    "handover_note": _t(
        "輸入接手人的手機號碼（須已實名註冊）。對方同意後，對方成為管理員；7 天內未同意則失效。",
        "输入接手人的手机号码（须已实名注册）。对方同意后，对方成为管理员；7 天内未同意则失效。",
        "Enter the new administrator's mobile number (a registered account). They become the"
        " administrator when they accept; the offer lapses after 7 days.",
    ),
    "handover_phone": _t("接手人手機號碼", "接手人手机号码", "New administrator's mobile number"),
    "handover_send": _t("發出移交", "发出移交", "Offer the venue"),
    "handover_cancel": _t("撤回移交", "撤回移交", "Withdraw the offer"),
    "handover_pending": _t("等待對方同意：", "等待对方同意：", "Waiting for the answer of "),
    "handover_offered": _t("請你接手場所：", "请你接手场所：", "You are offered the venue: "),
    "venue_name": _t("場所全稱", "场所全称", "Full name of the venue"),
    "address": _t("詳細地址", "详细地址", "Street address"),
    "category": _t("場所類別", "场所类别", "Category"),
    "cat_hospital": _t("醫院", "医院", "Hospital"),
    "cat_restaurant": _t("餐廳", "餐厅", "Restaurant"),
    "cat_supermarket": _t("超市", "超市", "Supermarket"),
    "cat_transport": _t("交通工具", "交通工具", "Transport"),
    "cat_office": _t("辦公場所", "办公场所", "Office"),
    "cat_school": _t("學校", "学校", "School"),
    "cat_hotel": _t("酒店", "酒店", "Hotel"),
    "cat_other": _t("其他", "其他", "Other"),
    "declaration_code": _t("場所申報碼", "场所申报码", "Declaration code"),
    "copy": _t("複製", "复制", "Copy"),
    "copied": _t("已複製", "已复制", "Copied"),
    "rotate": _t("更換申報碼", "更换申报码", "Replace the code"),
    "rotate_note": _t(
        "更換後舊碼不能再綁定，已綁定的檢測員不受影響。",
        "更换后旧码不能再绑定，已绑定的检测员不受影响。",
        "The old code stops working for new inspectors; bound inspectors stay.",
    ),
    "reissue": _t("重新簽發海報", "重新签发海报", "Reissue the poster"),
    "reissue_note": _t(
        "重新簽發後，舊海報掃碼會被拒絕。",
        "重新签发后，旧海报扫码会被拒绝。",
        "After reissuing, scans of older posters are refused.",
    ),
    "poster_version": _t("海報版本", "海报版本", "Poster version"),
    "inspectors": _t("檢測員", "检测员", "Inspectors"),
    "remove": _t("移除", "移除", "Remove"),
    "bind_myself": _t("我也做本場所的檢測員", "我也做本场所的检测员", "Bind myself as inspector"),
    "bind": _t("綁定場所", "绑定场所", "Bind to a venue"),
    "bind_note": _t(
        "輸入場所管理員提供的申報碼（不分大小寫）。",
        "输入场所管理员提供的申报码（不分大小写）。",
        "Enter the declaration code from the venue's administrator (any case).",
    ),
    "my_venues": _t("我綁定的場所", "我绑定的场所", "My venues"),
    "quick_checkin": _t("體溫正常，快速打卡", "体温正常，快速打卡", "Temperature normal: quick check-in"),
    "download_poster": _t("下載海報（PDF）", "下载海报（PDF）", "Download the poster (PDF)"),
    "download_png": _t("下載場所碼（PNG）", "下载场所码（PNG）", "Download the code (PNG)"),
    "leave": _t("解除綁定", "解除绑定", "Leave"),
    "confirm": _t("確定嗎？", "确定吗？", "Are you sure?"),
    "logout_everywhere": _t("在所有設備上登出", "在所有设备上退出", "Sign out on every device"),
    "logout_everywhere_note": _t(
        "手機遺失或借給他人時使用：所有設備都要重新登入。",
        "手机遗失或借给他人时使用：所有设备都要重新登录。",
        "For a lost or lent phone: every device must sign in again.",
    ),
    "scan_first": _t(
        "登入或註冊後，會回到剛才掃碼的場所，按一下即完成打卡。",
        "登录或注册后，会回到刚才扫码的场所，按一下即完成打卡。",
        "After you sign in or register you come back to the venue you scanned: one tap checks you in.",
    ),
    "section_mine": _t("我的", "我的", "Mine"),
    "section_venues": _t("場所與檢測", "场所与检测", "Venues and inspection"),
    "section_staff": _t("工作人員", "工作人员", "Staff"),
    "health_code": _t("我的健康碼", "我的健康码", "My health code"),
    "visits": _t("打卡記錄", "打卡记录", "My check-ins"),
    "reverse_scan": _t("反向掃碼", "反向扫码", "Reverse scan"),
    "assisted_lookup": _t("老幼助查", "老幼助查", "Assisted lookup"),
    "console": _t("流調控制台", "流调控制台", "Contact tracing console"),
    "outbreak": _t("疫情群組分析", "疫情聚集分析", "Outbreak picture"),
    "authority": _t("設定健康碼狀態", "设定健康码状态", "Set a health-code status"),
    "operator": _t("運維管理", "运维管理", "Operations"),
    "operator_title": _t("運維管理", "运维管理", "Operations"),
    "not_operator": _t(
        "此頁只供平台運維人員（operator）使用。",
        "此页只供平台运维人员（operator）使用。",
        "This page is for platform operators only.",
    ),
    "operator_intro": _t(
        "運維人員目前可以：授予工作人員角色、暫停或恢復流調通知、查看審計記錄。",
        "运维人员目前可以：授予工作人员角色、暂停或恢复流调通知、查看审计记录。",
        "Operators can today: grant staff roles, pause or resume tracing notifications, read the audit log.",
    ),
    "grant_role": _t("授予角色", "授予角色", "Grant a role"),
    "person_id": _t("人員編號（person_id）", "人员编号（person_id）", "Person id"),
    "role": _t("角色", "角色", "Role"),
    "role_epidemiologist": _t("流調人員", "流调人员", "Epidemiologist"),
    "role_health_authority": _t("衛生健康部門", "卫生健康部门", "Health authority"),
    "role_operator": _t("運維人員", "运维人员", "Operator"),
    "granted": _t("已授予", "已授予", "Granted"),
    "notifications": _t("流調通知", "流调通知", "Tracing notifications"),
    "notifications_on": _t("通知正常發送", "通知正常发送", "Notifications are sent"),
    "notifications_paused": _t("通知已暫停", "通知已暂停", "Notifications are paused"),
    "pause": _t("暫停通知", "暂停通知", "Pause notifications"),
    "resume": _t("恢復通知", "恢复通知", "Resume notifications"),
    "audit": _t("審計記錄（JSON）", "审计记录（JSON）", "Audit log (JSON)"),
    "compliance": _t("場所合規情況", "场所合规情况", "Venue compliance"),
}


@cache
def _pages() -> Pages:
    return Pages(Path(__file__).parent / "templates", {**TEXTS, **PICKER_TEXTS})


ID_KINDS: tuple[str, ...] = get_args(IdKind)
CATEGORIES = tuple(c.value for c in Category)


def _render(request: Request, template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    caller = signed_in(request)
    return _pages().render(
        request,
        template,
        status_code,
        signed_in=caller is not None,
        roles=caller.roles if caller else frozenset(),
        id_kinds=ID_KINDS,
        relations=RELATIONS,
        categories=CATEGORIES,
        **context,
    )


def _with_next(request: Request, template: str) -> HTMLResponse:
    """Sign-in and registration keep the return address (a path here, else the home page)."""
    target = safe_next(request.query_params.get("next"))
    return _render(
        request,
        template,
        next_path=target,
        resume=target,
        scanning=target.startswith("/c/"),
        login_link=with_next("/registry/login", target),
        register_link=with_next("/registry/register", target),
    )


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, found: ServicesDep) -> HTMLResponse:
    """Every page a person may use, by what they are: citizen, inspector, staff roles."""
    caller = signed_in(request)
    inspector = False
    if caller is not None:
        inspector = bool(await found.venues.bindings(caller.person_id))
    return _render(request, "registry_home.html", inspector=inspector)


@router.get("/registry/register", response_class=HTMLResponse)
async def register(request: Request) -> HTMLResponse:
    return _with_next(request, "registry_register.html")


@router.get("/registry/login", response_class=HTMLResponse)
async def login(request: Request) -> HTMLResponse:
    return _with_next(request, "registry_login.html")


@router.get("/registry/family", response_class=HTMLResponse)
async def family(request: Request) -> HTMLResponse:
    return _render(request, "registry_family.html")


@router.get("/registry/venue", response_class=HTMLResponse)
async def venue(request: Request) -> HTMLResponse:
    query = request.query_params
    chosen = picker(query.get("province"), query.get("city"), query.get("region_code"))
    return _render(request, "registry_venue.html", picker=chosen)


@router.get("/registry/inspector", response_class=HTMLResponse)
async def inspector(request: Request) -> HTMLResponse:
    return _render(request, "registry_inspector.html")


@router.get("/registry/operator", response_class=HTMLResponse)
async def operator(request: Request) -> HTMLResponse:
    """What an operator can do today: grant roles, pause notifications, read the audit log."""
    caller = signed_in(request)
    allowed = caller is not None and caller.has("operator")
    return _render(
        request,
        "registry_operator.html",
        status_code=200 if allowed or caller is None else 403,
        allowed=allowed,
        staff_roles=STAFF_ROLES,
    )

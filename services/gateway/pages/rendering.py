"""HTML plumbing of the pages: templates, Chinese dates, cookies, CSRF.

Pages are rendered on the server with Jinja2 (autoescaped). The login token
is the API's signed token, kept in an HttpOnly, SameSite=Strict cookie; every
form that changes something carries a CSRF token that must equal the one in
its own cookie (double submit), so another site cannot post on a user's
behalf even where SameSite is not honoured.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.wrappers import Response

from services.intake.contract import CHANNELS, STATUS_LABELS
from shared.calendar import SHANGHAI

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}

SESSION_COOKIE = "qi_console"
CSRF_COOKIE = "qi_csrf"
CSRF_FIELD = "csrf"
# the largest request a page accepts (an e-report upload included)
MAX_FORM_BYTES = 20 * 1024 * 1024

# what staff and regulators read for a stored event's name (the name itself
# stays beside it on the regulator's timeline, as the audit contract spells it)
EVENT_LABELS = {
    "Registered": "需求登记",
    "Taken": "受理（首问负责）",
    "HandoverOffered": "提出移交",
    "HandoverWithdrawn": "撤回移交",
    "Reassigned": "管理人员改派首问负责人",
    "Corrected": "更正登记表",
    "InHouseReminded": "自主服务即将到期提醒",
    "InHouseEscalated": "自主服务超期，已升级管理人员",
    "HandoverAnswered": "答复移交",
    "FollowedUp": "跟进",
    "MaterialsNoticeIssued": "一次性告知补充材料",
    "MaterialsSupplied": "登记补充材料",
    "ContractReviewed": "合同评审",
    "Decided": "分流决定",
    "GreenChannelOpened": "开通绿色通道",
    "ReferralFeedbackReceived": "收到承办机构反馈",
    "Resolved": "办结",
    "Reopened": "重新办理",
    "Requested": "提出转办",
    "Matched": "匹配承办机构",
    "Sent": "派发转办",
    "Accepted": "签收",
    "Returned": "退回",
    "ProgressReported": "报告进度",
    "Completed": "办结并出具报告",
    "FeedbackDelivered": "反馈首问负责人",
    "Issued": "发出满意度评价",
    "Rated": "客户评价",
    "Opened": "建立案件记录",
    "Noted": "案件记录更新",
    "Read": "查阅",
}


ROLE_LABELS = {
    "customer": "客户",
    "staff": "服务人员",
    "manager": "服务管理人员",
    "partner": "合作机构人员",
    "regulator": "监管人员",
    "system": "系统",
    "admin": "平台管理员",
}
SERVICE_LABELS = {
    "intake": "受理",
    "referral": "转办",
    "complaints": "投诉",
    "evaluation": "评价",
    "catalog": "目录",
    "gateway": "门户",
}


def event_label(name: str) -> str:
    """Demand.Taken or Taken → 受理（首问负责）; an unknown name as it is."""
    return EVENT_LABELS.get(str(name).rpartition(".")[2], name)


def percent(rate) -> str:
    """A rate of 0–1 as 87.5%; no rate (nothing counted) as a dash."""
    if rate is None or rate == "":
        return "—"
    return f"{float(rate) * 100:.1f}%"


# pages show Beijing time whatever the server's zone
BEIJING = SHANGHAI


def _moment(value) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def cn_date(value) -> str:
    """2026-11-26 or an ISO moment → 2026年11月26日 (Beijing day)."""
    moment = _moment(value)
    if moment is None:
        return value or ""
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING)
    return f"{moment.year}年{moment.month}月{moment.day}日"


def cn_datetime(value, seconds: bool = False) -> str:
    """An ISO moment → 2026年11月26日 15:04 (Beijing time), to the second
    where it matters (an audit's printout: 15:04:05)."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return cn_date(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING)
    return (
        f"{cn_date(moment)} {moment:%H:%M:%S}"
        if seconds
        else (f"{cn_date(moment)} {moment:%H:%M}")
    )


ENVIRONMENT = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters["cn_date"] = cn_date
ENVIRONMENT.filters["cn_datetime"] = cn_datetime
# the intake channels, and those the gateway and services name themselves
ENVIRONMENT.globals["channels"] = {
    **CHANNELS,
    "web": "网页工作台",
    "internal": "系统内部",
}
ENVIRONMENT.filters["event_label"] = event_label
ENVIRONMENT.filters["percent"] = percent
ENVIRONMENT.globals["status_labels"] = STATUS_LABELS
ENVIRONMENT.globals["role_labels"] = ROLE_LABELS
ENVIRONMENT.globals["service_labels"] = SERVICE_LABELS


def html(template: str, **context) -> str:
    """A template rendered as a document of its own (the API's docs page and
    the case export): no session, no CSRF."""
    return ENVIRONMENT.get_template(template).render(**context)


def field_errors(errors: list[dict], prefix: str = "") -> dict[str, str]:
    """ValidationFailed's errors as field → message (several joined); on a
    page of several forms, ``prefix`` names the form (``prefix.field``)."""
    found: dict[str, str] = {}
    for error in errors:
        field = str(error.get("field") or "form")
        field = f"{prefix}.{field}" if prefix else field
        message = str(error.get("message") or "填写有误")
        found[field] = f"{found[field]}；{message}" if field in found else message
    return found


def typed(form, prefix: str = "") -> dict[str, str]:
    """What was typed into a refused form, to show it again (the CSRF token
    left out); on a page of several forms, ``prefix`` names the form."""
    return {
        f"{prefix}.{field}" if prefix else field: text(form, field)
        for field in form
        if field != "csrf"
    }


def csrf_token(request) -> tuple[str, bool]:
    """The caller's CSRF token, and whether it is new (to be set as a cookie)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) >= 32:
        return token, False
    return secrets.token_urlsafe(32), True


def csrf_ok(request) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.form.get(CSRF_FIELD, "")
    return len(cookie) >= 32 and hmac.compare_digest(cookie, sent)


def set_cookie(response: Response, name: str, value: str, request, **kwargs):
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="Strict",
        secure=request.scheme == "https",
        path="/",
        **kwargs,
    )


def render(
    request, template: str, http_status: int = 200, actor=None, **context
) -> Response:
    """A page; sets the CSRF cookie on a visitor's first page."""
    token, fresh = csrf_token(request)
    body = ENVIRONMENT.get_template(template).render(
        csrf=token,
        actor=actor,
        path=request.path,
        errors=context.pop("errors", {}),
        **context,
    )
    response = Response(body, status=http_status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    if fresh:
        set_cookie(response, CSRF_COOKIE, token, request)
    return response


def redirect(location: str, status: int = 303) -> Response:
    response = Response("", status=status)
    response.headers["Location"] = location
    return response


def login_redirect(request) -> Response:
    return redirect("/console/login?next=" + quote(request.full_path.rstrip("?")))


def safe_next(value: str | None, default: str = "/console/") -> str:
    """Only a path of the console itself: never an open redirect."""
    if value and value.startswith("/console/") and "//" not in value:
        return value
    return default


def text(form, field: str) -> str:
    return (form.get(field) or "").strip()

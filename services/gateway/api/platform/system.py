"""The platform over HTTP: readiness, the API's own description, logging in
and out and the caller's identity, the admin's accounts (a change that
matters to access ends the account's sessions), the regulator's audit of a
case, and ops' parked messages."""

from __future__ import annotations

import json

from werkzeug.wrappers import Response

from services.gateway.accounts import MIN_PASSWORD, ROLES
from services.gateway.pages import rendering
from services.gateway.problems import download, problem
from services.gateway.routing import answers, openapi
from services.gateway.routing.body import NOTHING, choice, fields, text
from services.gateway.routing.declare import Call, endpoint, form, route
from services.gateway.routing.query import PAGE, param
from services.gateway.usecases import audit, platform
from shared.errors import ValidationFailed

LOGIN = fields(
    {
        "username": text("用户名", 200, minLength=1),
        "password": text("密码", 200, minLength=1),
    },
    required=("username", "password"),
)
ACCOUNT = fields(
    {
        "username": text("用户名", 32),
        "display_name": text("姓名", 40),
        "role": text("角色", 32),
        "institution": text("机构", 64),
        "password": text("密码", 128),
    },
    required=("username", "display_name", "role", "password"),
)
ROLE = fields(
    {"role": choice("角色", list(ROLES)), "institution": text("机构", 64)},
    required=("role",),
)
PASSWORD = fields(
    {"password": text("新密码", 128, minLength=MIN_PASSWORD)},
    required=("password",),
)
ACCOUNT_PATH = "/api/v1/accounts/{username}"
CASE = "/api/v1/audit/cases/{demand_id}"
AS_OF = param("as_of")
EXPORTS = ("json", "html")


# -- answers -----------------------------------------------------------------
ACCOUNT_ANSWER = answers.record(
    "账号",
    ("username", "role", "active"),
    username=answers.STRING,
    display_name=answers.STRING,
    role=answers.STRING,
    role_label=answers.STRING,
    institution=answers.STRING,
    active=answers.BOOLEAN,
)
TOKEN = answers.record(
    "登录令牌",
    ("token", "token_type", "expires_in"),
    token=answers.STRING,
    token_type=answers.STRING,
    expires_in=answers.INTEGER,
    account=ACCOUNT_ANSWER,
)
LOGGED_OUT = answers.record(
    "已退出登录",
    ("username", "logged_out"),
    username=answers.STRING,
    logged_out=answers.BOOLEAN,
)
IDENTITY = answers.record(
    "当前登录身份",
    ("username", "role"),
    username=answers.STRING,
    role=answers.STRING,
    institution=answers.STRING,
)
# the demand as it stood (intake's summary, masked for a reader without need
# of personal data); its other fields (corrections, hand-over, ...) are
# intake's own records and not listed here
AUDITED_DEMAND = answers.record(
    "需求在核查时点的状态",
    ("id", "status", "needs", "version"),
    id=answers.STRING,
    applicant=answers.STRING,
    contact_phone=answers.STRING,
    channel=answers.STRING,
    institution=answers.STRING,
    customer_kind=answers.STRING,
    main_business=answers.STRING,
    feedback_time=answers.STRING,
    needs=answers.listing(
        answers.record(
            "服务需求", (), item_code=answers.STRING, description=answers.STRING
        )
    ),
    status=answers.STRING,
    registered_at=answers.STRING,
    owner=answers.maybe(answers.STRING),
    outstanding_materials=answers.listing(answers.STRING),
    in_house_due=answers.maybe(answers.STRING),
    materials_complete_at=answers.maybe(answers.STRING),
    version=answers.INTEGER,
)
# one event of the case's timeline: who did what when, never its data
TIMELINE_ENTRY = answers.record(
    "案件时间线上的一个事件",
    (
        "at",
        "service",
        "event",
        "actor",
        "role",
        "institution",
        "channel",
        "aggregate_id",
        "version",
    ),
    at=answers.STRING,
    service=answers.STRING,
    event=answers.STRING,
    actor=answers.STRING,
    role=answers.STRING,
    institution=answers.STRING,
    channel=answers.STRING,
    aggregate_id=answers.STRING,
    version=answers.INTEGER,
)
AUDIT = answers.record(
    "案件审计：时间线与哈希链核验",
    ("case_id", "timeline", "verification"),
    case_id=answers.STRING,
    as_of=answers.maybe(answers.STRING),
    demand=answers.maybe(AUDITED_DEMAND),  # 核查时点尚未登记：null
    timeline=answers.listing(TIMELINE_ENTRY),
    verification=answers.record(
        "核验结果", ("passed",), passed=answers.BOOLEAN, streams=answers.INTEGER
    ),
)
# each operation of /openapi.json (routing/openapi.py), keyed by path, then
# by method; the schemas inside are JSON Schema documents of their own
OPERATION = answers.record(
    "OpenAPI 操作",
    ("summary", "responses"),
    summary=answers.STRING,
    responses=answers.mapping(
        answers.record("响应", ("description",), description=answers.STRING)
    ),
)
DOCUMENT = answers.record(
    "OpenAPI 3.1 文档",
    ("openapi", "paths"),
    openapi=answers.STRING,
    paths=answers.mapping(answers.mapping(OPERATION)),
)
READY = answers.record("就绪", ("status",), status=answers.STRING)
PARKED_MESSAGE = answers.record(
    "暂存（未能处理）的消息，不含内容",
    ("id", "consumer", "event_type", "event_id", "attempts", "status", "parked_at"),
    id=answers.INTEGER,
    consumer=answers.STRING,
    source=answers.STRING,
    event_type=answers.STRING,
    event_id=answers.STRING,
    error=answers.STRING,
    attempts=answers.INTEGER,
    status=answers.STRING,
    parked_at=answers.STRING,
)
PARKED = answers.record(
    "各服务暂存的消息",
    ("services",),
    # service -> its parked messages; null: the service did not answer
    services=answers.mapping(answers.maybe(answers.listing(PARKED_MESSAGE))),
)


class SystemRoutes:
    @route("GET", "/healthz", audit.readiness, "就绪检查", codes=(503,), answer=READY)
    def healthz(self, call: Call):
        """Ready when every service of this installation answers its ping;
        otherwise 503 naming each service that is not ready and why."""
        not_ready = call.run()
        if not_ready:
            detail = "; ".join(f"{n}: {why}" for n, why in not_ready.items())
            return problem(503, "服务暂不可用，请稍后再试", detail)
        return {"status": "ok"}

    @route("GET", "/openapi.json", platform.document, "本文档", answer=DOCUMENT)
    def openapi(self, call: Call):
        return openapi.document()

    @route(
        "GET",
        "/docs",
        platform.document,
        "接口说明页",
        media=("text/html",),
        answer=answers.HTML,
    )
    def docs(self, call: Call):
        """A browsable page of the API, served locally (no CDN)."""
        page = rendering.html("docs.html", document=openapi.document())
        return Response(page, mimetype="text/html")

    @route(
        "POST",
        "/api/v1/auth/login",
        platform.login,
        "登录，取得有时效的令牌",
        body=LOGIN,
        codes=(401, 429),
        answer=TOKEN,
    )
    def login(self, call: Call):
        """Username and password → a signed token that expires."""
        signed = call.run(client=self.client(call.request), **call.body)
        return signed or problem(401, "用户名或密码错误")

    @route(
        "POST",
        "/api/v1/auth/logout",
        platform.logout,
        "退出登录（携带 Bearer 令牌）：该账号的所有令牌立即失效",
        body=NOTHING,
        codes=(401,),
        answer=LOGGED_OUT,
    )
    def logout(self, call: Call):
        """Every token of the bearer's account stops working at once."""
        scheme, _, token = call.request.headers.get("Authorization", "").partition(" ")
        return call.run(token=token.strip() if scheme.lower() == "bearer" else "")

    me = endpoint("GET", "/api/v1/me", platform.me, "当前登录身份", answer=IDENTITY)

    list_accounts = endpoint(
        "GET",
        "/api/v1/accounts",
        platform.accounts,
        "账号列表（平台管理员）",
        paged=True,
        query=PAGE,
        answer=answers.page(ACCOUNT_ANSWER),
    )

    open_account = endpoint(
        "POST",
        "/api/v1/accounts",
        platform.open_account,
        "开设账号（平台管理员）",
        form,
        body=ACCOUNT,
        status=201,
        answer=ACCOUNT_ANSWER,
    )

    @route(
        "POST",
        ACCOUNT_PATH + "/disable",
        platform.disable_account,
        "停用账号",
        body=fields({"reason": text("停用原因", 500)}),
        answer=ACCOUNT_ANSWER,
    )
    def disable_account(self, call: Call):
        """Disabled, and its tokens refused from now on."""
        return call.run(reason=call.body.get("reason"))

    enable_account = endpoint(
        "POST",
        ACCOUNT_PATH + "/enable",
        platform.enable_account,
        "重新启用账号（须重新登录）",
        body=NOTHING,
        answer=ACCOUNT_ANSWER,
    )

    change_role = endpoint(
        "POST",
        ACCOUNT_PATH + "/role",
        platform.change_role,
        "更改账号的角色与机构：该账号的令牌立即失效",
        lambda call: {
            "role": call.body["role"],
            "institution": call.body.get("institution"),
        },
        body=ROLE,
        answer=ACCOUNT_ANSWER,
    )

    set_password = endpoint(
        "POST",
        ACCOUNT_PATH + "/password",
        platform.set_password,
        "重设账号密码：该账号的令牌立即失效",
        lambda call: {"password": call.body["password"]},
        body=PASSWORD,
        answer=ACCOUNT_ANSWER,
    )

    # -- the regulator's audit of a case (audit contract) ---------------------

    @route(
        "GET",
        CASE,
        audit.case,
        "案件审计：跨服务时间线、某一时刻的状态与哈希链核验（每次查阅均留痕）",
        query=(AS_OF,),
        answer=AUDIT,
    )
    def audit_case(self, call: Call):
        """One timeline across services, as of a moment, and its verification."""
        return call.run(as_of=call.arg("as_of"), what="timeline")

    @route(
        "GET",
        CASE + "/export",
        audit.case,
        "导出案件审计（JSON 或可打印的 HTML）",
        media=("application/json", "text/html"),
        query=(AS_OF, param("format", schema={"enum": list(EXPORTS)})),
        answer=AUDIT,
    )
    def export_case(self, call: Call):
        """The audit as a JSON file or a printable HTML page (``?format=html``)."""
        form = call.arg("format", "json")
        if form not in EXPORTS:
            raise ValidationFailed.single("format", "应为 json 或 html")
        found = call.run(as_of=call.arg("as_of"), what=f"export-{form}")
        name = f"case-{call.ids['demand_id']}.{form}"
        if form == "json":
            body = json.dumps(found, ensure_ascii=False)
            return download(body, "application/json", name)
        page = rendering.html("case_export.html", audit=found, institutions={})
        return download(page, "text/html", name)

    parked_messages = endpoint(
        "GET",
        "/api/v1/ops/parked-messages",
        audit.parked,
        "各服务暂存（parked）的消息（运维）",
        answer=PARKED,
    )

"""The API's commands on a demand and its OpenAPI 3.1 document.

Each staff command is one row: the roles that may send it, the intake RPC it
becomes, and how the body turns into that call's arguments. The acting staff
member is always the caller — a body cannot name someone else (7.4.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.gateway.access import MANAGERS
from services.gateway.access import STAFF_ROLES as STAFF
from services.gateway.web import list_field, text_field
from services.intake.registration import CHANNELS
from shared.audit import Actor
from shared.errors import ValidationFailed


@dataclass(frozen=True)
class DemandCommand:
    rpc: str
    roles: frozenset[str]
    arguments: Callable[[Actor, dict], tuple]
    summary: str
    body: dict  # JSON schema properties of the request body

    @staticmethod
    def channel(body: dict) -> str:
        """Staff act at the window unless they say they answered by phone etc."""
        channel = body.get("channel", "window")
        if channel not in CHANNELS:
            raise ValidationFailed.single(
                "channel", "受理渠道应为：" + "、".join(CHANNELS)
            )
        return channel


STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}

DEMAND_COMMANDS: dict[str, DemandCommand] = {
    "take": DemandCommand(
        "take", STAFF, lambda a, b: (a.id,), "受理（首问负责，7.4.2）", {}
    ),
    "handover": DemandCommand(
        "offer_handover",
        STAFF,
        lambda a, b: (a.id, text_field(b, "to_staff"), text_field(b, "reason")),
        "提出移交（须写明原因）",
        {"to_staff": STRING, "reason": STRING},
    ),
    "handover-answer": DemandCommand(
        "answer_handover",
        STAFF,
        lambda a, b: (a.id, b.get("accept") is True, text_field(b, "reason")),
        "接收或拒绝移交",
        {"accept": {"type": "boolean"}, "reason": STRING},
    ),
    "follow-ups": DemandCommand(
        "follow_up",
        STAFF,
        lambda a, b: (a.id, text_field(b, "note")),
        "记录跟进（8.3.5）",
        {"note": STRING},
    ),
    "materials-notice": DemandCommand(
        "notify_materials",
        STAFF,
        lambda a, b: (a.id, list_field(b, "provided"), b.get("nonconforming") or {}),
        "一次性告知需补充的材料（7.4.3）",
        {
            "provided": STRINGS,
            "nonconforming": {"type": "object", "additionalProperties": STRING},
        },
    ),
    "supplements": DemandCommand(
        "supply_materials",
        STAFF,
        lambda a, b: (list_field(b, "items"),),
        "登记客户补充的材料",
        {"items": STRINGS},
    ),
    "green-channel": DemandCommand(
        "open_green_channel",
        MANAGERS,
        lambda a, b: (text_field(b, "reason"),),
        "开通绿色通道（7.4.5）",
        {"reason": STRING},
    ),
    "contract-review": DemandCommand(
        "review_contract",
        STAFF,
        lambda a, b: (a.id, b.get("checks")),
        "合同评审（5.3.1.2）",
        {
            "checks": {
                "type": "object",
                "properties": {
                    k: {"type": "boolean"}
                    for k in ("capability", "method", "cycle", "fee")
                },
            }
        },
    ),
    "decision": DemandCommand(
        "decide",
        STAFF,
        lambda a, b: (a.id, text_field(b, "outcome"), b.get("details") or {}),
        "分流：当场答复、本机构办理或转办（8.3.1–8.3.4）",
        {
            "outcome": {"enum": ["answered", "in_house", "referred"]},
            "details": {"type": "object"},
        },
    ),
    "resolution": DemandCommand(
        "resolve",
        STAFF,
        lambda a, b: (a.id, text_field(b, "summary")),
        "办结",
        {"summary": STRING},
    ),
    "reopening": DemandCommand(
        "reopen",
        STAFF,
        lambda a, b: (a.id, text_field(b, "reason")),
        "重新办理（须写明原因）",
        {"reason": STRING},
    ),
}

PROBLEM = {"$ref": "#/components/schemas/Problem"}
# a demand whose owner did nothing for this long is shown to managers (7.4.2)
STALE_AFTER_WORKING_HOURS = 4.0
AS_OF = {"name": "as_of", "in": "query", "schema": {"type": "string"}}
# every list answers a page: {total, offset, limit, items}
PAGE = [
    {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": 10**9},
    },
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    },
]
# a retried POST with the same key has its first answer, and no second effect
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "schema": {"type": "string", "maxLength": 200},
}


def responses(ok: str, *codes: int, media=("application/json",)) -> dict:
    answers = {ok: {"description": "成功", "content": {m: {} for m in media}}}
    for code in codes:
        answers[str(code)] = {
            "description": "问题",
            "content": {"application/problem+json": {"schema": PROBLEM}},
        }
    return answers


def operation(
    summary: str,
    ok="200",
    codes=(400, 401, 403, 404),
    media=("application/json",),
    **extra,
):
    return {
        "summary": summary,
        "responses": responses(ok, *codes, media=media),
        **extra,
    }


def path_parameter(name: str) -> dict:
    """A string the route takes from its path."""
    return {"name": name, "in": "path", "required": True, "schema": STRING}


def path_parameters(*names: str) -> list[dict]:
    return [path_parameter(name) for name in names]


def body_schema(properties: dict) -> dict:
    return {
        "required": False,
        "content": {
            "application/json": {"schema": {"type": "object", "properties": properties}}
        },
    }


def document() -> dict:
    """OpenAPI 3.1 of the routes in service.py (kept beside them by a test)."""
    demand_id = path_parameter("demand_id")
    paths: dict = {
        "/healthz": {"get": operation("就绪检查", codes=(503,), security=[])},
        "/api/v1/auth/login": {
            "post": operation(
                "登录，取得有时效的令牌",
                codes=(400, 401, 429),
                requestBody=body_schema({"username": STRING, "password": STRING}),
                security=[],
            )
        },
        "/api/v1/me": {"get": operation("当前登录身份", codes=(401,))},
        "/api/v1/accounts": {
            "get": operation(
                "账号列表（平台管理员）", codes=(400, 401, 403), parameters=PAGE
            ),
            "post": operation(
                "开设账号（平台管理员）",
                ok="201",
                codes=(400, 401, 403, 409),
                requestBody=body_schema(
                    {
                        k: STRING
                        for k in (
                            "username",
                            "display_name",
                            "role",
                            "institution",
                            "password",
                        )
                    }
                ),
            ),
        },
        "/api/v1/accounts/{username}/disable": {
            "post": operation(
                "停用账号",
                parameters=[path_parameter("username")],
                requestBody=body_schema({"reason": STRING}),
            )
        },
        "/api/v1/demands": {
            "get": operation(
                "本机构的需求（监管人员：全部），分页",
                codes=(400, 401, 403),
                parameters=[*PAGE, {"name": "status", "in": "query", "schema": STRING}],
            ),
            "post": operation(
                "登记需求（附录B）：客户在线提交无需登录，窗口人员登录后登记",
                ok="201",
                codes=(400, 401, 403),
                requestBody=body_schema({}),
                parameters=[IDEMPOTENCY_KEY],
                security=[{}, {"bearer": []}],
            ),
        },
        "/api/v1/demands/{demand_id}": {
            "get": operation("需求、登记表与转办情况", parameters=[demand_id])
        },
        "/api/v1/demands/{demand_id}/history": {
            "get": operation(
                "需求的全部事件（操作人、机构、渠道）", parameters=[demand_id, *PAGE]
            )
        },
        "/api/v1/audit/cases/{demand_id}": {
            "get": operation(
                "案件审计：跨服务时间线、某一时刻的状态与哈希链核验（每次查阅均留痕）",
                codes=(400, 401, 403, 404),
                parameters=[demand_id, AS_OF],
            )
        },
        "/api/v1/audit/cases/{demand_id}/export": {
            "get": operation(
                "导出案件审计（JSON 或可打印的 HTML）",
                codes=(400, 401, 403, 404),
                media=("application/json", "text/html"),
                parameters=[
                    demand_id,
                    AS_OF,
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"enum": ["json", "html"]},
                    },
                ],
            )
        },
        "/api/v1/ops/parked-messages": {
            "get": operation("各服务暂存（parked）的消息（运维）", codes=(401, 403))
        },
        "/api/v1/stale-demands": {
            "get": operation("首问负责人长时间未处理的需求（管理人员）")
        },
        "/api/v1/progress/{code}": {
            "get": operation(
                "按进度查询码查询办理进度（7.4.6）",
                codes=(404, 429),
                parameters=[path_parameter("code")],
                security=[],
            )
        },
        "/api/v1/public/guide": {"get": operation("服务指南", codes=(), security=[])},
        "/api/v1/catalog/items": {
            "get": operation("服务事项目录", codes=(), security=[])
        },
        "/api/v1/catalog/items/{code}": {
            "get": operation(
                "服务事项详情与所需材料",
                codes=(404,),
                parameters=[path_parameter("code")],
                security=[],
            )
        },
        "/api/v1/catalog/certification-bodies": {
            "get": operation(
                "认证机构及其认证范围（6.4 c）",
                codes=(400,),
                parameters=[{"name": "on", "in": "query", "schema": STRING}],
                security=[],
            )
        },
        "/api/v1/catalog/qualified-institutions": {
            "get": operation(
                "某日具备某服务事项资质的机构（4.1）",
                codes=(400,),
                parameters=[
                    {"name": "item", "in": "query", "required": True, "schema": STRING},
                    {"name": "on", "in": "query", "schema": STRING},
                ],
                security=[],
            )
        },
        "/openapi.json": {"get": operation("本文档", codes=(), security=[])},
        "/docs": {
            "get": operation("接口说明页", codes=(), media=("text/html",), security=[])
        },
    }
    for name, command in DEMAND_COMMANDS.items():
        paths[f"/api/v1/demands/{{demand_id}}/{name}"] = {
            "post": operation(
                command.summary,
                codes=(400, 401, 403, 404, 409),
                parameters=[demand_id, IDEMPOTENCY_KEY],
                requestBody=body_schema({**command.body, "channel": STRING}),
            )
        }
    from services.gateway import (
        catalog_resources_routes,
        catalog_routes,
        complaints_routes,
        custody_routes,
        efficiency_routes,
        evaluation_routes,
        instrument_routes,
        referral_routes,
        referral_task_routes,
    )

    for routes in (
        referral_routes,
        evaluation_routes,
        complaints_routes,
        catalog_routes,
        efficiency_routes,
        referral_task_routes,
        catalog_resources_routes,
        custody_routes,
        instrument_routes,
    ):
        paths.update(routes.document_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "qi-onestop 一站式服务平台 API", "version": "1"},
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": STRING,
                        "title": STRING,
                        "status": {"type": "integer"},
                        "detail": STRING,
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"field": STRING, "message": STRING},
                            },
                        },
                    },
                    "required": ["title", "status"],
                }
            },
        },
    }


def docs_page() -> str:
    """A browsable page of the API, served locally (no CDN)."""
    import html

    rows = []
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            codes = "、".join(operation["responses"])
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td>"
                f"<td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(operation['summary'])}</td><td>{codes}</td></tr>"
            )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>一站式服务平台 API</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>"
        "</head><body><h1>一站式服务平台 API（/api/v1）</h1>"
        '<p>机器可读的说明：<a href="/openapi.json">/openapi.json</a>（OpenAPI 3.1）。'
        "登录后在请求头带上 <code>Authorization: Bearer &lt;令牌&gt;</code>。</p>"
        "<table><thead><tr><th>方法</th><th>路径</th><th>说明</th><th>应答</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></body></html>"
    )

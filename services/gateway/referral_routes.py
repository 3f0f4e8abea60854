"""Referral over HTTP: the partner's inbox and commands, report verification,
and a partner's standing (its certificates as referral last heard of them, 4.1).

The referral service checks each referral against the caller (its own
institution, the partner's, or a regulator's read); the gateway checks the
role may send the command at all, and passes the caller as audit data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nameko.web.handlers import http

from services.gateway import access
from services.gateway.access import MANAGERS
from services.gateway.api import STRING
from services.gateway.problems import json_response
from services.gateway.web import (
    TooManyAttempts,
    call,
    day,
    errors_to_response,
    json_body,
    object_field,
    paged,
    text_field,
)
from shared.audit import Actor
from shared.errors import NotFound
from shared.rpc import audit_dict

PARTNER_SIDE = frozenset({"partner", "staff", "manager"})
REFERRING_SIDE = frozenset({"staff", "manager"})
# a partner's standing: its own managers and administrator; the platform's
# administrator, who keeps qualifications, and the regulator, for any partner
STANDING_OF_OWN = MANAGERS | {"institution_admin"}
STANDING_OF_ANY = frozenset({"admin", "regulator"})


@dataclass(frozen=True)
class ReferralCommand:
    rpc: str
    roles: frozenset[str]
    arguments: Callable[[dict], tuple]
    summary: str
    body: dict


REPORT = {
    "type": "object",
    "properties": {
        "report_no": STRING,
        "issued_on": STRING,
        "sha256": STRING,
        "conclusion": STRING,
    },
}

REFERRAL_COMMANDS: dict[str, ReferralCommand] = {
    # the partner institution (8.3.4, 8.3.5)
    "acceptance": ReferralCommand(
        "accept", PARTNER_SIDE, lambda b: (), "签收转办（承接机构）", {}
    ),
    "return": ReferralCommand(
        "decline",
        PARTNER_SIDE,
        lambda b: (text_field(b, "reason"),),
        "退回转办，须写明原因（承接机构）",
        {"reason": STRING},
    ),
    "progress": ReferralCommand(
        "report_progress",
        PARTNER_SIDE,
        lambda b: (text_field(b, "stage"), text_field(b, "note")),
        "报告办理进度（收样、检测、编制报告等）",
        {"stage": STRING, "note": STRING},
    ),
    "extension-request": ReferralCommand(
        "request_extension",
        PARTNER_SIDE,
        lambda b: (text_field(b, "stage"), b.get("days"), text_field(b, "reason")),
        "在期限前申请延期，须写明原因",
        {"stage": STRING, "days": {"type": "integer"}, "reason": STRING},
    ),
    "completion": ReferralCommand(
        "complete",
        PARTNER_SIDE,
        lambda b: (object_field(b, "report"),),
        "办结并登记报告（编号、日期、电子报告哈希）",
        {"report": REPORT},
    ),
    "feedback": ReferralCommand(
        "deliver_feedback",
        PARTNER_SIDE,
        lambda b: (text_field(b, "summary"),),
        "向首问负责人反馈办理结果（闭环）",
        {"summary": STRING},
    ),
    "failure": ReferralCommand(
        "fail",
        PARTNER_SIDE,
        lambda b: (text_field(b, "reason"),),
        "无法完成，须写明原因",
        {"reason": STRING},
    ),
    "report-replacement": ReferralCommand(
        "replace_report",
        PARTNER_SIDE,
        lambda b: (object_field(b, "report"),),
        "以新报告替换已出具的报告",
        {"report": REPORT},
    ),
    "report-revocation": ReferralCommand(
        "revoke_report",
        PARTNER_SIDE,
        lambda b: (text_field(b, "reason"),),
        "撤销已出具的报告",
        {"reason": STRING},
    ),
    # the referring side: the demand's institution
    "matching": ReferralCommand("match", REFERRING_SIDE, lambda b: (), "匹配机构", {}),
    "pick": ReferralCommand(
        "pick",
        REFERRING_SIDE,
        lambda b: (text_field(b, "institution_id"), text_field(b, "reason")),
        "另选一家具备资质的机构（4.1）",
        {"institution_id": STRING, "reason": STRING},
    ),
    "expert": ReferralCommand(
        "refer_to_expert",
        REFERRING_SIDE,
        lambda b: (text_field(b, "expert_id"), text_field(b, "reason")),
        "转给专家（5.2.2 c）",
        {"expert_id": STRING, "reason": STRING},
    ),
    "sending": ReferralCommand("send", REFERRING_SIDE, lambda b: (), "发送转办", {}),
    "hold": ReferralCommand(
        "hold",
        REFERRING_SIDE,
        lambda b: (text_field(b, "reason"),),
        "暂停",
        {"reason": STRING},
    ),
    "resumption": ReferralCommand(
        "resume", REFERRING_SIDE, lambda b: (), "恢复办理", {}
    ),
    "cancellation": ReferralCommand(
        "cancel",
        REFERRING_SIDE,
        lambda b: (text_field(b, "reason"),),
        "取消转办",
        {"reason": STRING},
    ),
    # the manager
    "ruling": ReferralCommand(
        "rule_responsible",
        MANAGERS,
        lambda b: (text_field(b, "institution_id"), text_field(b, "reason")),
        "裁定承办机构（反复退回时）",
        {"institution_id": STRING, "reason": STRING},
    ),
    "extension-decision": ReferralCommand(
        "decide_extension",
        MANAGERS,
        lambda b: (b.get("approve") is True, text_field(b, "note")),
        "批准或不批准延期",
        {"approve": {"type": "boolean"}, "note": STRING},
    ),
}


def _as(actor: Actor, case: str = "") -> dict:
    return audit_dict(actor, "web", case)


class ReferralRoutes:
    """Mixed into GatewayService (``self.referral``, ``_actor``, ``auth``)."""

    @http("GET", "/api/v1/referrals")
    @errors_to_response
    def referral_inbox(self, request):
        """The referrals addressed to the caller's institution, and nothing else."""
        actor = self._actor(request)
        access.require_role(actor, PARTNER_SIDE)
        found = call(self.referral.inbox, actor.institution, audit_data=_as(actor))
        return json_response(paged(request, found))

    @http("GET", "/api/v1/referrals/<string:referral_id>")
    @errors_to_response
    def get_referral(self, request, referral_id):
        actor = self._actor(request)
        access.require_role(actor, PARTNER_SIDE | {"regulator"})
        found = call(self.referral.referral, referral_id, audit_data=_as(actor))
        return json_response(found)

    @http("POST", "/api/v1/referrals/<string:referral_id>/<string:command>")
    @errors_to_response
    def referral_command(self, request, referral_id, command):
        """A command on a referral; see ``REFERRAL_COMMANDS``."""
        spec = REFERRAL_COMMANDS.get(command)
        if spec is None:
            raise NotFound(command)
        actor = self._actor(request)
        access.require_role(actor, spec.roles)
        # whose referral it is comes before what the body says: another
        # institution's referral is "not found", whatever was sent
        call(self.referral.referral, referral_id, audit_data=_as(actor))
        args = spec.arguments(json_body(request))
        method = getattr(self.referral, spec.rpc)
        return self._once(
            request,
            actor,
            f"referral/{referral_id}/{command}",
            lambda: call(method, referral_id, *args, audit_data=_as(actor)),
        )

    @http("GET", "/api/v1/partners/<string:institution_id>/standing")
    @errors_to_response
    def partner_standing(self, request, institution_id):
        """The partner's certificates and each one's status on ``?on=``
        (default today): valid, suspended, revoked or expired."""
        actor = self._actor(request)
        access.require_role(actor, STANDING_OF_OWN | STANDING_OF_ANY)
        if actor.role not in STANDING_OF_ANY:
            access.require_same_institution(actor, institution_id)
        on = day(request.args.get("on"))
        found = call(self.referral.partner_standing, institution_id, on)
        return json_response(
            {"institution_id": institution_id, "on": on, **paged(request, found)}
        )

    @http("GET", "/api/v1/public/reports/<string:code>")
    @errors_to_response
    def verify_report(self, request, code):
        """Anyone with a report's verification code: valid, replaced or revoked."""
        key = f"report:{self._client(request)}"
        if not self.auth.progress_queries.allow(key):
            raise TooManyAttempts(self.auth.progress_queries.retry_after(key))
        return json_response(call(self.referral.verify_report, code))


def document_paths() -> dict:
    """The OpenAPI paths of these routes (merged into api.document())."""
    from services.gateway.api import (
        IDEMPOTENCY_KEY,
        PAGE,
        body_schema,
        operation,
        path_parameter,
    )

    referral_id = path_parameter("referral_id")
    paths = {
        "/api/v1/referrals": {
            "get": operation(
                "本机构收到的转办（收件箱）", codes=(400, 401, 403), parameters=PAGE
            )
        },
        "/api/v1/referrals/{referral_id}": {
            "get": operation("转办详情", parameters=[referral_id])
        },
        "/api/v1/partners/{institution_id}/standing": {
            "get": operation(
                "合作机构的资质及其在某日的状态（4.1；本机构管理人员、平台管理员、"
                "监管人员）",
                parameters=[
                    path_parameter("institution_id"),
                    {"name": "on", "in": "query", "schema": STRING},
                    *PAGE,
                ],
            )
        },
        "/api/v1/public/reports/{code}": {
            "get": operation(
                "按验证码核验报告：有效、已替换或已撤销",
                codes=(404, 429),
                parameters=[path_parameter("code")],
                security=[],
            )
        },
    }
    for name, command in REFERRAL_COMMANDS.items():
        paths[f"/api/v1/referrals/{{referral_id}}/{name}"] = {
            "post": operation(
                command.summary,
                codes=(400, 401, 403, 404, 409),
                parameters=[referral_id, IDEMPOTENCY_KEY],
                requestBody=body_schema(command.body),
            )
        }
    return paths

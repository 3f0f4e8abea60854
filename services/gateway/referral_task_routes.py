"""Tasks that do not start from a customer's demand, over HTTP: a task
commissioned by a government department (5.2.2 b) or technical support for a
regulator's product recall (6.9), registered by staff of an institution for
the requester. The task is its own case; the registering institution is the
caller's, whatever the body says.
"""

from __future__ import annotations

from nameko.web.handlers import http

from services.gateway import access
from services.gateway.api import STRING
from services.gateway.web import call, errors_to_response, json_body
from shared.rpc import audit_dict

# opening the green channel is a manager's decision, as for demands (7.4.5)
GREEN_CHANNEL_ROLES = frozenset({"manager"})
TASK_FIELDS = ("kind", "item_code", "requester_name", "description", "green_channel")


class ReferralTaskRoutes:
    """Mixed into GatewayService (``self.referral``, ``_actor``, ``_once``)."""

    @http("POST", "/api/v1/referral-tasks")
    @errors_to_response
    def open_referral_task(self, request):
        """``{kind: government|recall, item_code, requester_name, description,
        green_channel}``; the referral is then matched and sent like any other."""
        actor = self._actor(request)
        access.require_role(actor, access.STAFF_ROLES)
        body = json_body(request)
        if body.get("green_channel") is True and actor.role not in GREEN_CHANNEL_ROLES:
            raise access.Forbidden("绿色通道须由管理人员开通")
        form = {key: body[key] for key in TASK_FIELDS if key in body}
        opened = self._once(
            request,
            actor,
            "referral-tasks",
            lambda: call(
                self.referral.open_task, form, audit_data=audit_dict(actor, "web")
            ),
        )
        opened.status_code = 201
        return opened


def document_paths() -> dict:
    from services.gateway.api import IDEMPOTENCY_KEY, body_schema, operation

    return {
        "/api/v1/referral-tasks": {
            "post": operation(
                "登记政府委托任务（5.2.2 b）或产品召回技术支持（6.9）",
                ok="201",
                codes=(400, 401, 403, 404),  # 404: no such service item
                parameters=[IDEMPOTENCY_KEY],
                requestBody=body_schema(
                    {
                        "kind": {"enum": ["government", "recall"]},
                        "item_code": STRING,
                        "requester_name": STRING,
                        "description": STRING,
                        "green_channel": {"type": "boolean"},
                    }
                ),
            )
        }
    }

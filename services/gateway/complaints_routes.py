"""Complaints and suggestions from the public (9.1.1, GB/T 19012): filed
without a login, followed by the status code the complainant keeps."""

from __future__ import annotations

from nameko.web.handlers import http

from services.complaints.application import COMMANDS as HANDLING_COMMANDS
from services.gateway import access
from services.gateway.api import STRING
from services.gateway.evaluation_routes import CUSTOMER
from services.gateway.problems import json_response
from services.gateway.web import call, errors_to_response, json_body
from shared import config
from shared.audit import Actor
from shared.errors import NotFound
from shared.rpc import audit_dict

HANDLERS = frozenset({"complaint_handler"})
# GB/T 19012 handling steps: the complaints service's own command names
COMMANDS = tuple(HANDLING_COMMANDS)


def handling_institution(complaint: dict) -> str:
    """A complaint about an institution is its own to handle; the rest the
    front door's (the platform that received it)."""
    return complaint["links"].get("institution_id") or config.get(
        "QI_FRONT_DOOR_INSTITUTION"
    )


class ComplaintsRoutes:
    """Mixed into GatewayService (``self.complaints``, ``_guard_code_guessing``)."""

    @http("POST", "/api/v1/public/complaints")
    @errors_to_response
    def file_complaint(self, request):
        """A complaint; the answer holds the code to follow it (shown once)."""
        form = json_body(request)
        form.pop("received_at", None)  # the platform's clock, not the sender's
        received = call(
            self.complaints.receive, form, audit_data=audit_dict(CUSTOMER, "website")
        )
        return json_response(received, 201)

    @http("GET", "/api/v1/public/complaints/<string:code>")
    @errors_to_response
    def complaint_status(self, request, code):
        """Where the complaint stands, by its code: stage labels only."""
        self._guard_code_guessing(request)
        return json_response(call(self.complaints.status_by_code, code))

    def _handled_complaint(self, actor: Actor, complaint_id: str) -> dict:
        audit = audit_dict(actor, "web")
        complaint = call(self.complaints.complaint, complaint_id, audit_data=audit)
        access.require_same_institution(actor, handling_institution(complaint))
        return complaint

    @http("GET", "/api/v1/complaints/<string:complaint_id>")
    @errors_to_response
    def get_complaint(self, request, complaint_id):
        """The complaint for its handlers (identity shown) and regulators."""
        actor = self._actor(request)
        access.require_role(actor, HANDLERS | {"regulator"})
        return json_response(self._handled_complaint(actor, complaint_id))

    @http("POST", "/api/v1/complaints/<string:complaint_id>/<string:command>")
    @errors_to_response
    def complaint_command(self, request, complaint_id, command):
        """One GB/T 19012 handling step; the body holds its fields."""
        if command not in COMMANDS:
            raise NotFound(command)
        actor = self._actor(request)
        access.require_role(actor, HANDLERS)
        self._handled_complaint(actor, complaint_id)
        fields = json_body(request)
        if command == "acknowledge":  # the handler is whoever acknowledges it
            fields["handler"] = actor.id
        changed = call(
            self.complaints.change,
            command,
            complaint_id,
            fields,
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(changed)


def document_paths() -> dict:
    from services.gateway.api import body_schema, operation

    complaint_id = {
        "name": "complaint_id",
        "in": "path",
        "required": True,
        "schema": STRING,
    }
    paths = {
        "/api/v1/complaints/{complaint_id}": {
            "get": operation(
                "投诉详情（投诉处理人员、监管人员）", parameters=[complaint_id]
            )
        },
        "/api/v1/public/complaints": {
            "post": operation(
                "投诉（9.1.1）：无需登录，返回用于查询的投诉码",
                ok="201",
                codes=(400,),
                requestBody=body_schema(
                    {
                        "channel": STRING,
                        "anonymous": {"type": "boolean"},
                        "complainant_name": STRING,
                        "complainant_phone": STRING,
                        "description": STRING,
                        "remedy_requested": STRING,
                        "demand_id": STRING,
                    }
                ),
                security=[],
            )
        },
        "/api/v1/public/complaints/{code}": {
            "get": operation(
                "按投诉码查询处理进度",
                codes=(404, 429),
                parameters=[
                    {"name": "code", "in": "path", "required": True, "schema": STRING}
                ],
                security=[],
            )
        },
    }
    for command in COMMANDS:
        paths[f"/api/v1/complaints/{{complaint_id}}/{command}"] = {
            "post": operation(
                f"投诉处理：{command}（GB/T 19012）",
                codes=(400, 401, 403, 404, 409),
                parameters=[complaint_id],
                requestBody=body_schema({}),
            )
        }
    return paths

"""Complaints and suggestions from the public (9.1.1, GB/T 19012): filed
without a login, followed by the status code the complainant keeps."""

from __future__ import annotations

from nameko.web.handlers import http

from services.gateway.evaluation_routes import CUSTOMER
from services.gateway.problems import json_response
from services.gateway.web import call, errors_to_response, json_body
from shared.rpc import audit_dict

STRING = {"type": "string"}


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


def document_paths() -> dict:
    from services.gateway.api import body_schema, operation

    return {
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

"""Complaints and suggestions (9.1.1, 9.4, GB/T 19012): filed by the public
without a login and followed by the status code the complainant keeps; worked
by the handling institution's complaint handlers from their list, with the
comment cards of its suggestion box and hotline and the period's figures."""

from __future__ import annotations

from datetime import date, timedelta

from nameko.web.handlers import http

from services.complaints.application import COMMANDS as HANDLING_COMMANDS
from services.gateway import access
from services.gateway.access import MANAGERS
from services.gateway.api import STRING
from services.gateway.evaluation_routes import CUSTOMER
from services.gateway.problems import json_response
from services.gateway.web import (
    call,
    errors_to_response,
    iso_date,
    json_body,
    page_of,
    text_field,
)
from shared import config
from shared.audit import Actor
from shared.errors import NotFound, ValidationFailed
from shared.rpc import audit_dict

HANDLERS = frozenset({"complaint_handler"})
# who follows an institution's complaints: its handlers, its managers (the
# complainant's identity masked for them) and the regulator (every institution)
FOLLOWERS = HANDLERS | MANAGERS | {"regulator"}
# the card's own fields; its institution is the recorder's, its time the platform's
CARD_FIELDS = ("source", "text", "contact_name", "contact_phone")
# GB/T 19012 handling steps: the complaints service's own command names
COMMANDS = tuple(HANDLING_COMMANDS)


def handling_institution(complaint: dict) -> str:
    """A complaint about an institution is its own to handle; the rest the
    front door's (the platform that received it)."""
    return complaint["links"].get("institution_id") or config.get(
        "QI_FRONT_DOOR_INSTITUTION"
    )


def _web(actor: Actor) -> dict:
    return audit_dict(actor, "web")


def _institution_of(actor: Actor) -> str | None:
    """The institution whose complaints the caller follows (None: all)."""
    return None if actor.role == "regulator" else actor.institution


def _period(request) -> tuple[str, str]:
    """``?since=&until=`` as dates in Beijing time, ``until`` included."""
    since = iso_date(request.args.get("since"), "since")
    until = iso_date(request.args.get("until"), "until")
    if until < since:
        raise ValidationFailed.single("until", "结束日期不能早于开始日期")
    after = (date.fromisoformat(until) + timedelta(days=1)).isoformat()
    return f"{since}T00:00:00+08:00", f"{after}T00:00:00+08:00"


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

    @http("GET", "/api/v1/complaints")
    @errors_to_response
    def list_complaints(self, request):
        """The complaints the caller's institution handles (regulator: all),
        newest first; ``?status=``; the complainant's identity masked."""
        actor = self._actor(request)
        access.require_role(actor, FOLLOWERS)
        offset, limit = page_of(request)
        status = request.args.get("status", "")
        page = call(
            self.complaints.complaints, _institution_of(actor), status, offset, limit
        )
        return json_response(page)

    @http("GET", "/api/v1/complaint-figures")
    @errors_to_response
    def complaint_figures(self, request):
        """Handling figures of the complaints received in a period (9.4):
        the caller's institution's; the regulator's of one or of all."""
        actor = self._actor(request)
        access.require_role(actor, FOLLOWERS)
        since, until = _period(request)
        institution = _institution_of(actor)
        if institution is None:
            institution = request.args.get("institution") or None
        return json_response(call(self.complaints.figures, since, until, institution))

    # -- comment cards: suggestion box and supervision hotline (9.1.1) -------

    @http("POST", "/api/v1/comment-cards")
    @errors_to_response
    def record_card(self, request):
        """A handler records a card of their institution's box or hotline."""
        actor = self._actor(request)
        access.require_role(actor, HANDLERS)
        body = json_body(request)
        form = {k: text_field(body, k) for k in CARD_FIELDS}
        form["institution_id"] = actor.institution
        card = call(self.complaints.record_card, form, audit_data=_web(actor))
        return json_response(
            card, 201, {"Location": f"/api/v1/comment-cards/{card['id']}"}
        )

    def _own_card(self, actor: Actor, card_id: str) -> dict:
        card = call(self.complaints.card, card_id, audit_data=_web(actor))
        access.require_same_institution(actor, card["institution_id"])
        return card

    @http("GET", "/api/v1/comment-cards/<string:card_id>")
    @errors_to_response
    def get_card(self, request, card_id):
        """A card for its institution's handlers and managers, and regulators."""
        actor = self._actor(request)
        access.require_role(actor, FOLLOWERS)
        return json_response(self._own_card(actor, card_id))

    @http("POST", "/api/v1/comment-cards/<string:card_id>/classification")
    @errors_to_response
    def classify_card(self, request, card_id):
        """Suggestion, praise or complaint, once; a complaint card opens a
        complaint of the same institution (its code in the answer)."""
        actor = self._actor(request)
        access.require_role(actor, HANDLERS)
        self._own_card(actor, card_id)
        kind = text_field(json_body(request), "kind")
        classified = call(
            self.complaints.classify_card, card_id, kind, audit_data=_web(actor)
        )
        return json_response(classified)

    def _handled_complaint(self, actor: Actor, complaint_id: str) -> dict:
        complaint = call(
            self.complaints.complaint, complaint_id, audit_data=_web(actor)
        )
        access.require_same_institution(actor, handling_institution(complaint))
        return complaint

    @http("GET", "/api/v1/complaints/<string:complaint_id>")
    @errors_to_response
    def get_complaint(self, request, complaint_id):
        """The complaint for its handlers and regulators (identity shown) and
        its institution's managers (identity masked by the service)."""
        actor = self._actor(request)
        access.require_role(actor, FOLLOWERS)
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
            audit_data=_web(actor),
        )
        return json_response(changed)


def document_paths() -> dict:
    from services.gateway.api import PAGE, body_schema, operation, path_parameter

    complaint_id = path_parameter("complaint_id")
    card_id = path_parameter("card_id")
    day = {"type": "string", "format": "date"}
    paths = {
        "/api/v1/complaints": {
            "get": operation(
                "本机构处理的投诉（投诉处理人员、管理人员；监管人员：全部），分页",
                codes=(400, 401, 403),
                parameters=[*PAGE, {"name": "status", "in": "query", "schema": STRING}],
            )
        },
        "/api/v1/complaint-figures": {
            "get": operation(
                "某一期间收到的投诉及其处理情况（本机构；监管人员可指定机构）",
                codes=(400, 401, 403),
                parameters=[
                    {"name": "since", "in": "query", "required": True, "schema": day},
                    {"name": "until", "in": "query", "required": True, "schema": day},
                    {"name": "institution", "in": "query", "schema": STRING},
                ],
            )
        },
        "/api/v1/comment-cards": {
            "post": operation(
                "登记意见箱、监督热线的意见卡（9.1.1，投诉处理人员）",
                ok="201",
                codes=(400, 401, 403),
                requestBody=body_schema({k: STRING for k in CARD_FIELDS}),
            )
        },
        "/api/v1/comment-cards/{card_id}": {
            "get": operation("意见卡（本机构）", parameters=[card_id])
        },
        "/api/v1/comment-cards/{card_id}/classification": {
            "post": operation(
                "意见卡分类：建议、表扬或投诉（投诉即立案）",
                codes=(400, 401, 403, 404, 409),
                parameters=[card_id],
                requestBody=body_schema(
                    {"kind": {"enum": ["suggestion", "praise", "complaint"]}}
                ),
            )
        },
        "/api/v1/complaints/{complaint_id}": {
            "get": operation(
                "投诉详情（投诉处理人员、监管人员；本机构管理人员看到的投诉人信息已遮蔽）",
                parameters=[complaint_id],
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
                parameters=[path_parameter("code")],
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

"""Evaluation over HTTP: the customer's rating by progress code (9.2.1), a
survey and its call-back for the institution that served or took the demand,
and the manager's call-backs, improvement items and half-year summaries
(9.1.3, 9.3).
"""

from __future__ import annotations

import base64

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.evaluation.rules import LEVELS
from services.gateway import access
from services.gateway.access import MANAGERS, STAFF_ROLES
from services.gateway.api import STRING
from services.gateway.problems import json_response
from services.gateway.web import (
    TooManyAttempts,
    call,
    errors_to_response,
    json_body,
    paged,
    text_field,
)
from shared.audit import Actor
from shared.errors import ValidationFailed
from shared.rpc import audit_dict

CUSTOMER = Actor(id="customer", role="customer")


def _code(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.single("code", "请填写进度查询码")
    return value.strip()


class EvaluationRoutes:
    """Mixed into GatewayService (``self.evaluation``, ``_actor``, ``auth``)."""

    def _guard_code_guessing(self, request) -> None:
        key = f"code:{self._client(request)}"
        if not self.auth.progress_queries.allow(key):
            raise TooManyAttempts(self.auth.progress_queries.retry_after(key))

    @http("GET", "/api/v1/public/surveys")
    @errors_to_response
    def surveys_for_code(self, request):
        """The customer's surveys, by the progress code they hold: ``?code=``."""
        self._guard_code_guessing(request)
        code = _code(request.args.get("code"))
        return json_response(
            paged(request, call(self.evaluation.surveys_for_code, code))
        )

    @http("POST", "/api/v1/public/surveys/<string:survey_id>/rating")
    @errors_to_response
    def rate(self, request, survey_id):
        """Once, within 5 working days, by the holder of the demand's code."""
        self._guard_code_guessing(request)
        body = json_body(request)
        code = _code(body.pop("code", None))
        rated = call(
            self.evaluation.rate,
            survey_id,
            code,
            body,
            audit_data=audit_dict(CUSTOMER, "website"),
        )
        return json_response(rated)

    # -- a service's survey and call-back (9.2.1) ----------------------------

    def _of_the_case(self, actor: Actor, record: dict) -> None:
        """A survey or call-back is the institution's that was rated, and the
        first responder's, whose demand it was (7.4.2); a regulator reads."""
        if actor.role == "regulator" or (
            actor.institution and actor.institution == record["institution_id"]
        ):
            return
        demand = call(self.intake.get_demand, record["demand_id"])
        access.require_same_institution(actor, demand["institution"])

    @http("GET", "/api/v1/evaluation/surveys/<string:survey_id>")
    @errors_to_response
    def get_survey(self, request, survey_id):
        """One survey: when it is due, and the rating once given."""
        actor = self._actor(request)
        access.require_role(actor, STAFF_ROLES | {"regulator"})
        survey = call(self.evaluation.survey, survey_id)
        self._of_the_case(actor, survey)
        return json_response(survey)

    @http("POST", "/api/v1/evaluation/call-backs/<string:call_back_id>/result")
    @errors_to_response
    def record_call_back(self, request, call_back_id):
        """Staff record how the call to an unsatisfied customer went: the
        caller is whoever records it, once."""
        actor = self._actor(request)
        access.require_role(actor, STAFF_ROLES)
        self._of_the_case(actor, call(self.evaluation.call_back, call_back_id))
        note = text_field(json_body(request), "note")
        done = call(
            self.evaluation.record_call_back,
            call_back_id,
            actor.id,
            note,
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(done)

    # -- managers of an institution ------------------------------------------

    @http("GET", "/api/v1/evaluation/call-backs")
    @errors_to_response
    def call_backs(self, request):
        """Open call-backs after unsatisfied ratings, of the manager's institution."""
        actor = self._actor(request)
        access.require_role(actor, MANAGERS)
        found = call(self.evaluation.call_backs, actor.institution, "open")
        return json_response(paged(request, found))

    @http("GET", "/api/v1/evaluation/improvements")
    @errors_to_response
    def improvements(self, request):
        """Improvement items of the manager's institution (9.3): ``?status=``."""
        actor = self._actor(request)
        access.require_role(actor, MANAGERS)
        status = request.args.get("status", "")
        found = call(self.evaluation.improvements, actor.institution, status)
        return json_response(paged(request, found))

    @http("POST", "/api/v1/evaluation/half-year-summaries")
    @errors_to_response
    def draft_half_year(self, request):
        """Draft the institution's summary of a half-year: ``{year, half}``."""
        actor = self._actor(request)
        access.require_role(actor, MANAGERS)
        body = json_body(request)
        drafted = call(
            self.evaluation.draft_half_year,
            actor.institution,
            body.get("year"),
            body.get("half"),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(drafted, 201)

    def _own_summary(self, actor: Actor, summary_id: str) -> dict:
        access.require_role(actor, MANAGERS | {"regulator"})
        summary = call(self.evaluation.half_year_summary, summary_id)
        access.require_same_institution(actor, summary.get("institution_id", ""))
        return summary

    def _half_year_pdf(self, summary_id: str) -> Response:
        """The summary's PDF, as the evaluation service writes it, to download
        (the API's ?format=pdf and the manager's page)."""
        pdf = base64.b64decode(call(self.evaluation.half_year_pdf, summary_id))
        name = f"half-year-{summary_id}.pdf"
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @http("GET", "/api/v1/evaluation/half-year-summaries/<string:summary_id>")
    @errors_to_response
    def half_year_summary(self, request, summary_id):
        """The summary as JSON, ``?format=html`` to read or ``?format=pdf`` to print."""
        actor = self._actor(request)
        summary = self._own_summary(actor, summary_id)
        form = request.args.get("format", "json")
        if form == "json":
            return json_response(summary)
        if form == "html":
            page = call(self.evaluation.half_year_html, summary_id)
            return Response(page, mimetype="text/html")
        if form == "pdf":
            return self._half_year_pdf(summary_id)
        raise ValidationFailed.single("format", "应为 json、html 或 pdf")

    @http("POST", "/api/v1/evaluation/half-year-summaries/<string:summary_id>/sign-off")
    @errors_to_response
    def sign_off_half_year(self, request, summary_id):
        actor = self._actor(request)
        self._own_summary(actor, summary_id)
        access.require_role(actor, MANAGERS)
        signed = call(
            self.evaluation.sign_off_half_year,
            summary_id,
            json_body(request).get("note", ""),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(signed)


def document_paths() -> dict:
    from services.gateway.api import PAGE, body_schema, operation, path_parameter

    summary_id = path_parameter("summary_id")
    survey_id = path_parameter("survey_id")
    levels = {"enum": list(LEVELS)}
    return {
        "/api/v1/public/surveys": {
            "get": operation(
                "按进度查询码查看满意度评价（9.2.1）",
                codes=(400, 404, 429),
                parameters=[
                    {"name": "code", "in": "query", "required": True, "schema": STRING},
                    *PAGE,
                ],
                security=[],
            )
        },
        "/api/v1/public/surveys/{survey_id}/rating": {
            "post": operation(
                "客户评价：5个工作日内、仅限本人、仅一次",
                codes=(400, 404, 409, 429),
                parameters=[path_parameter("survey_id")],
                requestBody=body_schema(
                    {
                        "code": STRING,
                        "overall": levels,
                        "dimensions": {
                            "type": "object",
                            "additionalProperties": levels,
                        },
                        "comments": STRING,
                    }
                ),
                security=[],
            )
        },
        "/api/v1/evaluation/surveys/{survey_id}": {
            "get": operation(
                "满意度评价（评价对象机构、首问机构的服务人员；监管人员）",
                parameters=[survey_id],
            )
        },
        "/api/v1/evaluation/call-backs/{call_back_id}/result": {
            "post": operation(
                "记录回访情况（9.2.1，回访人为记录者，仅一次）",
                codes=(400, 401, 403, 404, 409),
                parameters=[path_parameter("call_back_id")],
                requestBody=body_schema({"note": STRING}),
            )
        },
        "/api/v1/evaluation/call-backs": {
            "get": operation(
                "不满意评价的回访任务（管理人员）",
                codes=(400, 401, 403),
                parameters=PAGE,
            )
        },
        "/api/v1/evaluation/improvements": {
            "get": operation(
                "改进事项（9.3，管理人员）",
                codes=(400, 401, 403),
                parameters=[{"name": "status", "in": "query", "schema": STRING}, *PAGE],
            )
        },
        "/api/v1/evaluation/half-year-summaries": {
            "post": operation(
                "起草半年度总结（9.1.3）",
                ok="201",
                codes=(400, 401, 403),
                requestBody=body_schema(
                    {"year": {"type": "integer"}, "half": {"enum": [1, 2]}}
                ),
            )
        },
        "/api/v1/evaluation/half-year-summaries/{summary_id}": {
            "get": operation(
                "半年度总结（JSON、HTML 或可打印的 PDF）",
                media=("application/json", "text/html", "application/pdf"),
                parameters=[
                    summary_id,
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"enum": ["json", "html", "pdf"]},
                    },
                ],
            )
        },
        "/api/v1/evaluation/half-year-summaries/{summary_id}/sign-off": {
            "post": operation(
                "管理人员签发半年度总结",
                codes=(400, 401, 403, 404, 409),
                parameters=[summary_id],
                requestBody=body_schema({"note": STRING}),
            )
        },
    }

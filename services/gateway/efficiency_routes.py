"""Evaluation over HTTP, the manager's side: staff efficiency (9.2.2), the
per-service records (9.1.2) and the improvement items opened from an
efficiency finding, planned, followed by their owner and closed (9.3).

A staff member belongs to the institution of their gateway account, so a
manager reaches the figures, assessments and records of their own
institution's staff only; the regulator reads all of them and writes nothing.
Each object is checked before the request's body is read.
"""

from __future__ import annotations

from nameko.web.handlers import http

from services.gateway import access
from services.gateway.access import MANAGERS, Hidden
from services.gateway.api import STRING, STRINGS
from services.gateway.problems import json_response
from services.gateway.web import call, errors_to_response, json_body, text_field
from shared.audit import Actor
from shared.rpc import audit_dict

READERS = MANAGERS | {"regulator"}


class EfficiencyRoutes:
    """Mixed into GatewayService (``self.evaluation``, ``self.app``, ``_actor``)."""

    def _institution_of_staff(self, staff_id: str) -> str:
        """The institution of a staff member's account; unknown people are 404."""
        account = self.app.account(staff_id)
        if account is None or account.role not in access.STAFF_ROLES:
            raise Hidden()
        return account.institution

    def _staff_in_reach(self, actor: Actor, staff_id: str, roles) -> None:
        access.require_role(actor, roles)
        access.require_same_institution(actor, self._institution_of_staff(staff_id))

    def _assessment_in_reach(self, actor: Actor, assessment_id: str, roles) -> dict:
        access.require_role(actor, roles)
        assessment = call(self.evaluation.efficiency_assessment, assessment_id)
        institution = self._institution_of_staff(assessment["staff_id"])
        access.require_same_institution(actor, institution)
        return assessment

    def _item_in_reach(self, actor: Actor, item_id: str, roles) -> dict:
        """An improvement item of the caller's institution (its owner too)."""
        if actor.role not in roles:
            access.require_role(actor, roles | access.STAFF_ROLES)
        item = call(self.evaluation.improvement, item_id)
        access.require_same_institution(actor, item.get("institution_id", ""))
        if actor.role not in roles and item.get("owner") != actor.id:
            raise access.Forbidden("只有整改责任人或管理人员可以进行此操作")
        return item

    # -- staff efficiency (9.2.2) ---------------------------------------------

    @http("GET", "/api/v1/evaluation/staff/<string:staff_id>/efficiency")
    @errors_to_response
    def efficiency_figures(self, request, staff_id):
        """The figures as they stand: ``?since=…&until=…`` (aware ISO times)."""
        actor = self._actor(request)
        self._staff_in_reach(actor, staff_id, READERS)
        figures = call(
            self.evaluation.efficiency_figures,
            staff_id,
            request.args.get("since", ""),
            request.args.get("until", ""),
        )
        return json_response(figures)

    @http("POST", "/api/v1/evaluation/staff/<string:staff_id>/efficiency-assessments")
    @errors_to_response
    def assess_efficiency(self, request, staff_id):
        """Store the figures of a period as the assessment: ``{since, until}``."""
        actor = self._actor(request)
        self._staff_in_reach(actor, staff_id, MANAGERS)
        body = json_body(request)
        assessed = call(
            self.evaluation.assess_efficiency,
            staff_id,
            text_field(body, "since"),
            text_field(body, "until"),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(assessed, 201)

    @http("GET", "/api/v1/evaluation/efficiency-assessments/<string:assessment_id>")
    @errors_to_response
    def efficiency_assessment(self, request, assessment_id):
        actor = self._actor(request)
        return json_response(self._assessment_in_reach(actor, assessment_id, READERS))

    @http(
        "POST",
        "/api/v1/evaluation/efficiency-assessments/<string:assessment_id>/comments",
    )
    @errors_to_response
    def comment_efficiency(self, request, assessment_id):
        """The manager's comment on an assessment: ``{comment}``."""
        actor = self._actor(request)
        self._assessment_in_reach(actor, assessment_id, MANAGERS)
        commented = call(
            self.evaluation.comment_efficiency,
            assessment_id,
            text_field(json_body(request), "comment"),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(commented)

    @http(
        "POST",
        "/api/v1/evaluation/efficiency-assessments/<string:assessment_id>/improvements",
    )
    @errors_to_response
    def open_improvement(self, request, assessment_id):
        """An improvement item from this finding (9.3):
        ``{finding, owner, actions, deadline}``; the institution is the staff
        member's, never the body's."""
        actor = self._actor(request)
        self._assessment_in_reach(actor, assessment_id, MANAGERS)
        body = json_body(request)
        form = {
            key: body[key]
            for key in ("finding", "owner", "actions", "deadline")
            if key in body
        }
        form.update(
            source="efficiency", ref=assessment_id, institution_id=actor.institution
        )
        opened = call(
            self.evaluation.open_improvement, form, audit_data=audit_dict(actor, "web")
        )
        return json_response(opened, 201)

    # -- improvement items (9.3) ----------------------------------------------

    @http("GET", "/api/v1/evaluation/improvements/<string:item_id>")
    @errors_to_response
    def improvement_item(self, request, item_id):
        """Managers of the item's institution, its owner, the regulator."""
        actor = self._actor(request)
        return json_response(self._item_in_reach(actor, item_id, READERS))

    def _change_item(self, request, item_id, command: str, roles, fields) -> dict:
        actor = self._actor(request)
        item = self._item_in_reach(actor, item_id, roles)
        body = json_body(request)
        kwargs = {field: body.get(field) for field in fields}
        return call(
            self.evaluation.change_improvement,
            item_id,
            command,
            kwargs,
            audit_data=audit_dict(actor, "web", item.get("demand_id", "")),
        )

    @http("POST", "/api/v1/evaluation/improvements/<string:item_id>/plan")
    @errors_to_response
    def plan_improvement(self, request, item_id):
        """The manager names owner, actions and deadline: ``{owner, actions,
        deadline}``."""
        planned = self._change_item(
            request, item_id, "plan", MANAGERS, ("owner", "actions", "deadline")
        )
        return json_response(planned)

    @http("POST", "/api/v1/evaluation/improvements/<string:item_id>/progress")
    @errors_to_response
    def improvement_progress(self, request, item_id):
        """The owner reports progress: ``{note}``."""
        recorded = self._change_item(
            request, item_id, "record_progress", frozenset(), ("note",)
        )
        return json_response(recorded)

    @http("POST", "/api/v1/evaluation/improvements/<string:item_id>/closure")
    @errors_to_response
    def close_improvement(self, request, item_id):
        """The manager closes the item with its result: ``{result}``."""
        closed = self._change_item(request, item_id, "close", MANAGERS, ("result",))
        return json_response(closed)

    # -- per-service records (9.1.2) ------------------------------------------

    @http("GET", "/api/v1/demands/<string:demand_id>/evaluation-records")
    @errors_to_response
    def demand_evaluation_records(self, request, demand_id):
        """Ratings, opinions and complaints of one demand, for its institution."""
        actor = self._actor(request)
        self._visible_demand(actor, demand_id)
        return json_response(call(self.evaluation.records_for_demand, demand_id))

    @http("GET", "/api/v1/evaluation/staff/<string:staff_id>/records")
    @errors_to_response
    def staff_evaluation_records(self, request, staff_id):
        """Services a staff member ended in ``[since, until)`` and their ratings;
        their managers, the regulator and the staff member themselves."""
        actor = self._actor(request)
        if actor.id != staff_id:
            self._staff_in_reach(actor, staff_id, READERS)
        found = call(
            self.evaluation.records_for_staff,
            staff_id,
            request.args.get("since", ""),
            request.args.get("until", ""),
        )
        return json_response(found)

    @http("GET", "/api/v1/evaluation/institutions/<string:institution_id>/records")
    @errors_to_response
    def institution_evaluation_records(self, request, institution_id):
        actor = self._actor(request)
        access.require_role(actor, READERS)
        access.require_same_institution(actor, institution_id)
        found = call(
            self.evaluation.records_for_institution,
            institution_id,
            request.args.get("since", ""),
            request.args.get("until", ""),
        )
        return json_response(found)


def document_paths() -> dict:
    from services.gateway.api import body_schema, operation, path_parameter

    period = [
        {"name": "since", "in": "query", "required": True, "schema": STRING},
        {"name": "until", "in": "query", "required": True, "schema": STRING},
    ]
    change = (400, 401, 403, 404, 409)
    return {
        "/api/v1/evaluation/staff/{staff_id}/efficiency": {
            "get": operation(
                "服务人员效能指标（9.2.2，本机构管理人员）",
                parameters=[path_parameter("staff_id"), *period],
            )
        },
        "/api/v1/evaluation/staff/{staff_id}/efficiency-assessments": {
            "post": operation(
                "进行效能评价并留存（管理人员）",
                ok="201",
                codes=change,
                parameters=[path_parameter("staff_id")],
                requestBody=body_schema({"since": STRING, "until": STRING}),
            )
        },
        "/api/v1/evaluation/efficiency-assessments/{assessment_id}": {
            "get": operation("效能评价", parameters=[path_parameter("assessment_id")])
        },
        "/api/v1/evaluation/efficiency-assessments/{assessment_id}/comments": {
            "post": operation(
                "管理人员对效能评价的意见",
                codes=change,
                parameters=[path_parameter("assessment_id")],
                requestBody=body_schema({"comment": STRING}),
            )
        },
        "/api/v1/evaluation/efficiency-assessments/{assessment_id}/improvements": {
            "post": operation(
                "由效能评价发现的问题登记整改事项（9.3）",
                ok="201",
                codes=change,
                parameters=[path_parameter("assessment_id")],
                requestBody=body_schema(
                    {
                        "finding": STRING,
                        "owner": STRING,
                        "actions": STRINGS,
                        "deadline": STRING,
                    }
                ),
            )
        },
        "/api/v1/evaluation/improvements/{item_id}": {
            "get": operation("整改事项", parameters=[path_parameter("item_id")])
        },
        "/api/v1/evaluation/improvements/{item_id}/plan": {
            "post": operation(
                "确定整改计划：责任人、措施、期限（管理人员）",
                codes=change,
                parameters=[path_parameter("item_id")],
                requestBody=body_schema(
                    {"owner": STRING, "actions": STRINGS, "deadline": STRING}
                ),
            )
        },
        "/api/v1/evaluation/improvements/{item_id}/progress": {
            "post": operation(
                "责任人记录整改进展",
                codes=change,
                parameters=[path_parameter("item_id")],
                requestBody=body_schema({"note": STRING}),
            )
        },
        "/api/v1/evaluation/improvements/{item_id}/closure": {
            "post": operation(
                "关闭整改事项并写明结果（管理人员）",
                codes=change,
                parameters=[path_parameter("item_id")],
                requestBody=body_schema({"result": STRING}),
            )
        },
        "/api/v1/demands/{demand_id}/evaluation-records": {
            "get": operation(
                "一次需求的评价、意见与投诉记录（9.1.2）",
                parameters=[path_parameter("demand_id")],
            )
        },
        "/api/v1/evaluation/staff/{staff_id}/records": {
            "get": operation(
                "服务人员办结的服务及其评价（9.1.2）",
                parameters=[path_parameter("staff_id"), *period],
            )
        },
        "/api/v1/evaluation/institutions/{institution_id}/records": {
            "get": operation(
                "本机构办结的服务及其评价（9.1.2）",
                parameters=[path_parameter("institution_id"), *period],
            )
        },
    }

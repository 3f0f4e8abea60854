"""Intake's convenience services over HTTP (7.4.4): door-to-door visits,
samples and their chain of custody, report delivery, and visit plans (8.2.2).

A demand's custody belongs to the demand's institution: its staff and
managers record and read it, the regulator reads it and writes nothing, and
anyone else is refused before the request's body is read. A visit plan is the
institution's that drafted it, always the caller's own. Contact data of the
customer is masked for readers without need of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.gateway import access
from services.gateway.access import READERS_OF_CASES, STAFF_ROLES
from services.gateway.api import STRING, STRINGS
from services.gateway.problems import json_response
from services.gateway.web import call, day, errors_to_response, json_body
from shared.audit import Actor
from shared.errors import ValidationFailed
from shared.rpc import audit_dict

# business days are counted in China Standard Time (a visit "today")
BEIJING = timezone(timedelta(hours=8))
VISIT_FIELDS = ("kind", "address", "preferred_date", "contact", "phone")
SAMPLE_FIELDS = ("sample_id", "description", "quantity", "condition", "note")
MOVEMENT_FIELDS = ("sample_ids", "from_party", "place")


def _now() -> str:
    return datetime.now(BEIJING).isoformat()


def _today() -> str:
    return datetime.now(BEIJING).date().isoformat()


def _fields(body: dict, names: tuple[str, ...], **defaults) -> dict:
    """The named fields of the body (intake checks each by name), or defaults."""
    found = {name: body.get(name) for name in names}
    found.update({k: body.get(k, v) for k, v in defaults.items()})
    return found


def masked_custody(view: dict) -> dict:
    """Custody without the customer's address, contact and e-mail (regulator)."""
    visits = [
        {
            **v,
            "address": "***",
            "contact": access.mask_name(v["contact"]),
            "phone": access.mask_phone(v["phone"]),
        }
        for v in view["visits"]
    ]
    deliveries = [
        {**d, **{k: "***" for k in ("address", "email") if d.get(k)}}
        for d in view["deliveries"]
    ]
    return {**view, "visits": visits, "deliveries": deliveries}


def masked_plan(plan: dict) -> dict:
    """A plan without the names of the people met on its visits (regulator)."""
    visits = []
    for visit in plan["visits"]:
        record = visit.get("record")
        if record and record.get("met"):
            met = {**record["met"], "name": access.mask_name(record["met"]["name"])}
            visit = {**visit, "record": {**record, "met": met}}
        visits.append(visit)
    return {**plan, "visits": visits}


class CustodyRoutes:
    """Mixed into GatewayService (``self.intake``, ``self.app``, ``_actor``,
    ``_once``)."""

    def _demand_in_reach(self, actor: Actor, demand_id: str, roles) -> None:
        access.require_role(actor, roles)
        demand = call(self.intake.get_demand, demand_id)
        access.require_same_institution(actor, demand["institution"])

    def _custody_command(self, request, demand_id, what: str, command) -> Response:
        """Staff of the demand's institution only, checked before the body is
        read; ``command(actor, body, audit)`` runs once per Idempotency-Key."""
        actor = self._actor(request)
        self._demand_in_reach(actor, demand_id, STAFF_ROLES)
        body = json_body(request)
        audit = audit_dict(actor, "web", demand_id)
        answer = self._once(
            request,
            actor,
            f"demand/{demand_id}/{what}",
            lambda: command(actor, body, audit),
        )
        answer.status_code = 201
        return answer

    # -- a demand's custody (7.4.4) ---------------------------------------------

    @http("GET", "/api/v1/demands/<string:demand_id>/custody")
    @errors_to_response
    def demand_custody(self, request, demand_id):
        """Visits, samples with their holders, movements and report deliveries."""
        actor = self._actor(request)
        self._demand_in_reach(actor, demand_id, READERS_OF_CASES)
        view = call(self.intake.custody, demand_id)
        if not access.sees_personal_data(actor):
            view = masked_custody(view)
        return json_response(view)

    @http("POST", "/api/v1/demands/<string:demand_id>/visits")
    @errors_to_response
    def request_visit(self, request, demand_id):
        """Door-to-door acceptance or a pickup: ``{kind: acceptance|pickup,
        address, preferred_date, contact, phone}``."""

        def command(actor, body, audit):
            fields = _fields(body, VISIT_FIELDS)
            return call(
                self.intake.request_visit, demand_id, **fields, audit_data=audit
            )

        return self._custody_command(request, demand_id, "visits", command)

    @http("POST", "/api/v1/demands/<string:demand_id>/samples")
    @errors_to_response
    def register_sample(self, request, demand_id):
        """``{sample_id, description, quantity, condition, note, courier}``:
        held by the customer, or by the courier of a requested pickup."""

        def command(actor, body, audit):
            fields = _fields(body, SAMPLE_FIELDS, courier=None)
            fields["note"] = fields["note"] or ""
            return call(
                self.intake.register_sample, demand_id, **fields, audit_data=audit
            )

        return self._custody_command(request, demand_id, "samples", command)

    @http("GET", "/api/v1/demands/<string:demand_id>/samples/<string:sample_id>")
    @errors_to_response
    def sample_chain(self, request, demand_id, sample_id):
        """A sample as it stands and its chain of custody, oldest first."""
        actor = self._actor(request)
        self._demand_in_reach(actor, demand_id, READERS_OF_CASES)
        return json_response(call(self.intake.sample_chain, demand_id, sample_id))

    @http("POST", "/api/v1/demands/<string:demand_id>/samples/handovers")
    @errors_to_response
    def hand_over_samples(self, request, demand_id):
        """The holder hands samples on: ``{sample_ids, from_party, to_party,
        place, condition, note, at}`` (``at`` defaults to now)."""

        def command(actor, body, audit):
            fields = _fields(body, MOVEMENT_FIELDS, condition=None, note="")
            return call(
                self.intake.hand_over_samples,
                demand_id,
                to_party=body.get("to_party"),
                at=body.get("at") or _now(),
                **fields,
                audit_data=audit,
            )

        return self._custody_command(request, demand_id, "handovers", command)

    @http("POST", "/api/v1/demands/<string:demand_id>/samples/returns")
    @errors_to_response
    def return_samples(self, request, demand_id):
        """Samples go back, to the customer unless ``to_party`` says whom:
        ``{sample_ids, from_party, place, condition, note, at, to_party}``."""

        def command(actor, body, audit):
            fields = _fields(body, MOVEMENT_FIELDS, condition=None, note="")
            if body.get("to_party"):  # else intake's default, the customer
                fields["to_party"] = body["to_party"]
            return call(
                self.intake.return_samples,
                demand_id,
                at=body.get("at") or _now(),
                **fields,
                audit_data=audit,
            )

        return self._custody_command(request, demand_id, "returns", command)

    @http("POST", "/api/v1/demands/<string:demand_id>/samples/disposals")
    @errors_to_response
    def dispose_samples(self, request, demand_id):
        """The holder disposes of samples: ``{sample_ids, from_party, place,
        method, at}``."""

        def command(actor, body, audit):
            return call(
                self.intake.dispose_samples,
                demand_id,
                body.get("sample_ids"),
                body.get("from_party"),
                body.get("at") or _now(),
                body.get("place"),
                body.get("method"),  # not a keyword: call() has its own
                audit_data=audit,
            )

        return self._custody_command(request, demand_id, "disposals", command)

    @http("POST", "/api/v1/demands/<string:demand_id>/report-deliveries")
    @errors_to_response
    def deliver_report(self, request, demand_id):
        """``{report_no, method: post|email|download, address, tracking_no,
        email, reason, at}``; delivered by the caller. Again only with a reason."""

        def command(actor, body, audit):
            optional = ("address", "email", "tracking_no", "reason")
            return call(
                self.intake.deliver_report,
                demand_id,
                body.get("report_no"),
                body.get("method"),
                actor.id,
                body.get("at") or _now(),
                **{name: body.get(name) for name in optional},
                audit_data=audit,
            )

        return self._custody_command(request, demand_id, "deliveries", command)

    # -- visit plans (8.2.2) ----------------------------------------------------

    def _plan_in_reach(self, actor: Actor, plan_id: str, roles, on: str) -> dict:
        access.require_role(actor, roles)
        plan = call(self.intake.visit_plan, plan_id, on)
        access.require_same_institution(actor, plan["institution_id"])
        return plan

    def _plan_command(self, request, plan_id, what, command, status=200) -> Response:
        actor = self._actor(request)
        plan = self._plan_in_reach(actor, plan_id, STAFF_ROLES, _today())
        body = json_body(request)
        audit = audit_dict(actor, "web")
        answer = self._once(
            request,
            actor,
            f"visit-plan/{plan_id}/{what}",
            lambda: command(actor, plan, body, audit),
        )
        answer.status_code = status
        return answer

    def _visitor(self, plan: dict, staff_id) -> None:
        """A planned visitor is a staff member of the plan's institution."""
        account = self.app.account(staff_id) if isinstance(staff_id, str) else None
        if (
            account is None
            or account.role not in STAFF_ROLES
            or account.institution != plan["institution_id"]
        ):
            raise ValidationFailed.single("staff_id", "走访人员应为本机构的服务人员")

    @http("POST", "/api/v1/visit-plans")
    @errors_to_response
    def draft_visit_plan(self, request):
        """``{period}`` (2026, 2026-H1, 2026-Q1, 2026-03), for the caller's
        institution whatever the body says."""
        actor = self._actor(request)
        access.require_role(actor, STAFF_ROLES)
        period = json_body(request).get("period")
        drafted = call(
            self.intake.draft_visit_plan,
            actor.institution,
            period,
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(
            drafted, 201, {"Location": f"/api/v1/visit-plans/{drafted['id']}"}
        )

    @http("GET", "/api/v1/visit-plans")
    @errors_to_response
    def visit_plan_for(self, request):
        """``?period=2026-Q1``: the caller's institution's plan for the period;
        the regulator names the institution (``&institution=``)."""
        actor = self._actor(request)
        access.require_role(actor, READERS_OF_CASES)
        institution = actor.institution
        if actor.role == "regulator":
            institution = request.args.get("institution", "")
            if not institution:
                raise ValidationFailed.single("institution", "请指明机构")
        on = day(request.args.get("on") or _today())
        period = request.args.get("period", "")
        plan = call(self.intake.visit_plan_for, institution, period, on)
        if not access.sees_personal_data(actor):
            plan = masked_plan(plan)
        return json_response(plan)

    @http("GET", "/api/v1/visit-plans/<string:plan_id>")
    @errors_to_response
    def visit_plan(self, request, plan_id):
        """The plan, its completion rate and the visits overdue ``?on=`` a day
        (today by default)."""
        actor = self._actor(request)
        on = day(request.args.get("on") or _today())
        plan = self._plan_in_reach(actor, plan_id, READERS_OF_CASES, on)
        if not access.sees_personal_data(actor):
            plan = masked_plan(plan)
        return json_response(plan)

    @http("POST", "/api/v1/visit-plans/<string:plan_id>/visits")
    @errors_to_response
    def plan_visit(self, request, plan_id):
        """``{company, address, planned_on, staff_id}``; the visitor is the
        caller unless another staff member of the institution is named."""

        def command(actor, plan, body, audit):
            staff_id = body.get("staff_id") or actor.id
            self._visitor(plan, staff_id)
            return call(
                self.intake.plan_visit,
                plan_id,
                body.get("company"),
                body.get("address"),
                body.get("planned_on"),
                staff_id,
                audit_data=audit,
            )

        return self._plan_command(request, plan_id, "visits", command, 201)

    @http(
        "POST",
        "/api/v1/visit-plans/<string:plan_id>/visits/<string:visit_id>/reschedule",
    )
    @errors_to_response
    def reschedule_visit(self, request, plan_id, visit_id):
        """``{planned_on, reason}``."""

        def command(actor, plan, body, audit):
            return call(
                self.intake.reschedule_visit,
                plan_id,
                visit_id,
                body.get("planned_on"),
                body.get("reason"),
                audit_data=audit,
            )

        what = f"visits/{visit_id}/reschedule"
        return self._plan_command(request, plan_id, what, command)

    @http(
        "POST",
        "/api/v1/visit-plans/<string:plan_id>/visits/<string:visit_id>/cancellation",
    )
    @errors_to_response
    def cancel_visit(self, request, plan_id, visit_id):
        """``{reason}``."""

        def command(actor, plan, body, audit):
            return call(
                self.intake.cancel_visit,
                plan_id,
                visit_id,
                body.get("reason"),
                audit_data=audit,
            )

        what = f"visits/{visit_id}/cancellation"
        return self._plan_command(request, plan_id, what, command)

    @http(
        "POST", "/api/v1/visit-plans/<string:plan_id>/visits/<string:visit_id>/record"
    )
    @errors_to_response
    def record_visit(self, request, plan_id, visit_id):
        """The caller records the visit, today at the latest: ``{visited_on,
        met: {name, position}, findings, demands: [Appendix B forms]}``; each
        demand is registered on channel "visit" for the plan's institution."""

        def command(actor, plan, body, audit):
            return call(
                self.intake.record_visit,
                plan_id,
                visit_id,
                body,  # intake names any field it does not know
                actor.id,
                _today(),
                audit_data=audit,
            )

        what = f"visits/{visit_id}/record"
        return self._plan_command(request, plan_id, what, command)


def document_paths() -> dict:
    from services.gateway.api import (
        IDEMPOTENCY_KEY,
        body_schema,
        operation,
        path_parameter,
    )

    demand, plan, visit = (
        path_parameter("demand_id"),
        path_parameter("plan_id"),
        path_parameter("visit_id"),
    )
    change = (400, 401, 403, 404, 409)
    moment = {"type": "string", "format": "date-time"}
    movement = {
        "sample_ids": STRINGS,
        "from_party": STRING,
        "place": STRING,
        "at": moment,
    }
    condition = {"condition": STRING, "note": STRING}

    def command(summary, properties, params=(demand,), ok="201") -> dict:
        return {
            "post": operation(
                summary,
                ok=ok,
                codes=change,
                parameters=[*params, IDEMPOTENCY_KEY],
                requestBody=body_schema(properties),
            )
        }

    base = "/api/v1/demands/{demand_id}"
    plans = "/api/v1/visit-plans/{plan_id}"
    return {
        f"{base}/custody": {
            "get": operation(
                "需求的上门服务、样品及其持有人、流转与报告送达（7.4.4）",
                parameters=[demand],
            )
        },
        f"{base}/visits": command(
            "申请上门受理或上门取样",
            {
                "kind": {"enum": ["acceptance", "pickup"]},
                "address": STRING,
                "preferred_date": {"type": "string", "format": "date"},
                "contact": STRING,
                "phone": STRING,
            },
        ),
        f"{base}/samples": command(
            "登记样品（客户持有，或由上门取样人员持有）",
            {
                "sample_id": STRING,
                "description": STRING,
                "quantity": {"type": "integer"},
                **condition,
                "courier": STRING,
            },
        ),
        f"{base}/samples/{{sample_id}}": {
            "get": operation(
                "样品现状及其流转记录", parameters=[demand, path_parameter("sample_id")]
            )
        },
        f"{base}/samples/handovers": command(
            "样品交接（只能由当前持有人交出）",
            {**movement, "to_party": STRING, **condition},
        ),
        f"{base}/samples/returns": command(
            "样品退还（默认退还客户）", {**movement, "to_party": STRING, **condition}
        ),
        f"{base}/samples/disposals": command(
            "样品处置（写明处置方式）", {**movement, "method": STRING}
        ),
        f"{base}/report-deliveries": command(
            "报告送达：邮寄、电子邮件（免费）或在线下载；再次送达须写明原因",
            {
                "report_no": STRING,
                "method": {"enum": ["post", "email", "download"]},
                "address": STRING,
                "tracking_no": STRING,
                "email": STRING,
                "reason": STRING,
                "at": moment,
            },
        ),
        "/api/v1/visit-plans": {
            "get": operation(
                "本机构某一期间的走访计划（监管人员指明机构）",
                parameters=[
                    {
                        "name": "period",
                        "in": "query",
                        "required": True,
                        "schema": STRING,
                    },
                    {"name": "institution", "in": "query", "schema": STRING},
                    {"name": "on", "in": "query", "schema": STRING},
                ],
            ),
            "post": operation(
                "编制本机构某一期间的走访计划（8.2.2）",
                ok="201",
                codes=(400, 401, 403),
                requestBody=body_schema({"period": STRING}),
            ),
        },
        plans: {
            "get": operation(
                "走访计划、完成率与逾期未走访的企业",
                parameters=[plan, {"name": "on", "in": "query", "schema": STRING}],
            )
        },
        f"{plans}/visits": command(
            "计划一次走访",
            {
                "company": STRING,
                "address": STRING,
                "planned_on": {"type": "string", "format": "date"},
                "staff_id": STRING,
            },
            params=(plan,),
        ),
        f"{plans}/visits/{{visit_id}}/reschedule": command(
            "走访改期（写明原因）",
            {"planned_on": {"type": "string", "format": "date"}, "reason": STRING},
            params=(plan, visit),
            ok="200",
        ),
        f"{plans}/visits/{{visit_id}}/cancellation": command(
            "取消走访（写明原因）", {"reason": STRING}, params=(plan, visit), ok="200"
        ),
        f"{plans}/visits/{{visit_id}}/record": command(
            "记录走访并登记收集到的需求（渠道为走访）",
            {
                "visited_on": {"type": "string", "format": "date"},
                "met": {
                    "type": "object",
                    "properties": {"name": STRING, "position": STRING},
                },
                "findings": STRING,
                "demands": {"type": "array", "items": {"type": "object"}},
            },
            params=(plan, visit),
            ok="200",
        ),
    }

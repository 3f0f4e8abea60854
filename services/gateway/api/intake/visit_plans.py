"""Visit plans over HTTP (8.2.2): drafted for the caller's institution,
read (masked for the regulator), their visits planned, moved, cancelled and
recorded with the demands they collected."""

from __future__ import annotations

from services.gateway.api.intake.demand_schemas import APPENDIX_B
from services.gateway.routing import answers
from services.gateway.routing.body import (
    day,
    fields,
    ignored,
    listed,
    text,
)
from services.gateway.routing.declare import Call, endpoint, form, route
from services.gateway.routing.query import ON, param
from services.gateway.routing.query import day as query_day
from services.gateway.usecases import visit_plans
from services.gateway.usecases.common import today

PLANS = "/api/v1/visit-plans"
PLAN = PLANS + "/{plan_id}"
VISIT = PLAN + "/visits/{visit_id}"
REASON = text("原因", 500)
# a demand collected on a visit: Appendix B, registered on channel "visit"
COLLECTED = fields(
    {**APPENDIX_B, "channel": ignored("受理渠道", "走访收集的需求，渠道为走访")},
    required=("applicant", "contact_phone"),
)
RECORD = fields(
    {
        "visited_on": day("走访日期"),
        "met": fields(
            {"name": text("会见人", 50), "position": text("职务", 50)}, title="会见人"
        ),
        "findings": text("走访发现", 2000),
        "demands": listed("收集到的需求", COLLECTED, most=50),
    },
    required=("visited_on",),
)


def _on(call: Call) -> str:
    return query_day(call.arg("on") or today())


# -- answers -----------------------------------------------------------------
VISIT_RECORD = answers.record(
    "走访记录（收集的需求以编号列出）",
    ("visited_on", "met", "findings", "demand_ids"),
    visited_on=answers.STRING,
    met=answers.record(
        "会见人",
        ("name", "position"),
        name=answers.STRING,  # 无权查看个人信息者见到的是遮盖后的姓名
        position=answers.STRING,
    ),
    findings=answers.STRING,
    demand_ids=answers.listing(answers.STRING),
    recorded_by=answers.STRING,
)
VISIT_CHANGE = answers.record(
    "走访的改期（from、to）或取消（cancelled），附原因",
    ("reason",),
    reason=answers.STRING,
    cancelled=answers.BOOLEAN,
    to=answers.STRING,
    **{"from": answers.STRING},
)
PLANNED_VISIT = answers.record(
    "计划中的一次走访",
    ("visit_id", "company", "planned_on", "status", "changes", "record"),
    visit_id=answers.STRING,
    company=answers.STRING,
    address=answers.STRING,
    planned_on=answers.STRING,
    staff_id=answers.STRING,
    status=answers.STRING,
    changes=answers.listing(VISIT_CHANGE),
    record=answers.maybe(VISIT_RECORD),  # 尚未走访：null
)
PLAN_ANSWER = answers.record(
    "走访计划",
    (),
    id=answers.STRING,
    institution_id=answers.STRING,
    period=answers.STRING,
    visits=answers.listing(PLANNED_VISIT),
    completion_rate=answers.maybe(answers.NUMBER),  # 无计入的走访：null
    overdue=answers.listing(answers.STRING),  # 逾期未走访的编号（读取时）
    version=answers.INTEGER,
)
# the plan after the visit was recorded, and the visit itself as ``result``
VISIT_ANSWER = answers.record(
    "记录走访后的走访计划及该次走访",
    ("id", "visits", "result"),
    **PLAN_ANSWER["properties"],
    result=PLANNED_VISIT,
)


class VisitPlanRoutes:
    @route(
        "POST",
        PLANS,
        visit_plans.draft,
        "编制本机构某一期间的走访计划（8.2.2）",
        body=fields(
            {
                "period": text("期间", 16),
                "institution_id": ignored("机构", "以调用者的机构为准"),
            },
            required=("period",),
        ),
        status=201,
        location="/api/v1/visit-plans/{id}",
        answer=PLAN_ANSWER,
    )
    def draft_visit_plan(self, call: Call):
        """For a period (2026, 2026-H1, 2026-Q1, 2026-03)."""
        return call.run(period=call.body["period"])

    @route(
        "GET",
        PLANS,
        visit_plans.plan_for,
        "本机构某一期间的走访计划（监管人员指明机构）",
        query=(param("period", required=True), param("institution"), ON),
        answer=PLAN_ANSWER,
    )
    def visit_plan_for(self, call: Call):
        return call.run(
            institution=call.arg("institution"), period=call.arg("period"), on=_on(call)
        )

    @route(
        "GET",
        PLAN,
        visit_plans.view,
        "走访计划、完成率与逾期未走访的企业",
        query=(ON,),
        answer=PLAN_ANSWER,
    )
    def visit_plan(self, call: Call):
        """The plan ``?on=`` a day (today by default)."""
        return call.run(on=_on(call))

    @route(
        "POST",
        PLAN + "/visits",
        visit_plans.plan_visit,
        "计划一次走访",
        body=fields(
            {
                "company": text("企业", 200),
                "address": text("地址", 200),
                "planned_on": day("计划日期"),
                "staff_id": text("走访人员（默认为本人）", 64),
            },
            required=("company", "address", "planned_on"),
        ),
        status=201,
        once="visit-plan/{plan_id}/visits",
        answer=PLAN_ANSWER,
    )
    def plan_visit(self, call: Call):
        b = call.body
        return call.run(
            company=b["company"],
            address=b["address"],
            planned_on=b["planned_on"],
            staff_id=b.get("staff_id"),
        )

    @route(
        "POST",
        VISIT + "/reschedule",
        visit_plans.reschedule,
        "走访改期（写明原因）",
        body=fields(
            {"planned_on": day("新的计划日期"), "reason": REASON},
            required=("planned_on",),
        ),
        inner=("visit_id",),
        once="visit-plan/{plan_id}/visits/{visit_id}/reschedule",
        answer=PLAN_ANSWER,
    )
    def reschedule_visit(self, call: Call):
        return call.run(
            planned_on=call.body["planned_on"], reason=call.body.get("reason")
        )

    @route(
        "POST",
        VISIT + "/cancellation",
        visit_plans.cancel,
        "取消走访（写明原因）",
        body=fields({"reason": REASON}, required=("reason",)),
        inner=("visit_id",),
        once="visit-plan/{plan_id}/visits/{visit_id}/cancellation",
        answer=PLAN_ANSWER,
    )
    def cancel_visit(self, call: Call):
        return call.run(reason=call.body["reason"])

    record_visit = endpoint(
        "POST",
        VISIT + "/record",
        visit_plans.record,
        "记录走访并登记收集到的需求（渠道为走访）",
        form,
        body=RECORD,
        inner=("visit_id",),
        once="visit-plan/{plan_id}/visits/{visit_id}/record",
        answer=VISIT_ANSWER,
    )

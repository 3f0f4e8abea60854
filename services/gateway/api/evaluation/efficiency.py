"""Evaluation over HTTP, the manager's side: staff efficiency (9.2.2), the
per-service records (9.1.2) and the improvement items opened from an
efficiency finding, planned, followed by their owner and closed (9.3)."""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.body import fields, ignored, text, texts
from services.gateway.routing.declare import Call, endpoint, form, route
from services.gateway.routing.query import param
from services.gateway.usecases import efficiency

STAFF = "/api/v1/evaluation/staff/{staff_id}"
ASSESSMENT = "/api/v1/evaluation/efficiency-assessments/{assessment_id}"
ITEM = "/api/v1/evaluation/improvements/{item_id}"
# a period as aware ISO moments, ``until`` not included
PERIOD = (param("since", required=True), param("until", required=True))
MOMENT = text("时间（ISO 8601，带时区）", 40)
PLAN = {
    "owner": text("责任人", 64),
    "actions": texts("整改措施", 500, most=20),
    "deadline": text("整改期限", 40),
}


def _period(call: Call) -> dict:
    return {"since": call.arg("since"), "until": call.arg("until")}


def _fields(call: Call) -> dict:
    """The route's fields of the body, absent ones as None."""
    return {name: call.body.get(name) for name in call.route.body["properties"]}


# -- answers -----------------------------------------------------------------
ASSESSMENT_ANSWER = answers.record("效能评价（9.2.2）", (), id=answers.STRING)
IMPROVEMENT_ANSWER = answers.record("改进事项（9.3）", (), id=answers.STRING)
# rows of evaluation's read model (services/evaluation/tables.py): every
# column is text, "" when not yet known, so each is always present
CASE_FACTS = answers.record(
    "需求的办理事实",
    ("case_id",),
    case_id=answers.STRING,
    institution_id=answers.STRING,
    channel=answers.STRING,
    registered_at=answers.STRING,
    outcome=answers.STRING,
    resolved_at=answers.STRING,
    resolved_by=answers.STRING,
    first_taker=answers.STRING,
    taken_at=answers.STRING,
    owner=answers.STRING,
)
SURVEY_ROW = answers.record(
    "一次服务的评价",
    ("survey_id", "source", "case_id", "staff_id", "status", "dimensions"),
    survey_id=answers.STRING,
    source=answers.STRING,
    source_label=answers.STRING,
    case_id=answers.STRING,
    institution_id=answers.STRING,
    staff_id=answers.STRING,
    ended_at=answers.STRING,
    due_at=answers.STRING,
    status=answers.STRING,
    status_label=answers.STRING,
    overall=answers.STRING,  # 满意程度；尚未评价：""
    dimensions=answers.mapping(answers.STRING),  # 各维度的满意程度
    comments=answers.STRING,
    rated_at=answers.STRING,
)
OPINION = answers.record(
    "客户意见",
    ("survey_id", "comments"),
    survey_id=answers.STRING,
    comments=answers.STRING,
)
SATISFACTION = answers.record(
    "满意度（已评价的服务）",
    ("rated", "average", "distribution", "satisfied_rate", "dimensions"),
    rated=answers.INTEGER,
    average=answers.maybe(answers.NUMBER),  # 无评价：null
    distribution=answers.mapping(answers.INTEGER),  # 满意程度 -> 次数
    satisfied_rate=answers.maybe(answers.NUMBER),
    dimensions=answers.mapping(answers.maybe(answers.NUMBER)),  # 维度 -> 平均分
)
COMPLAINT_ROW = answers.record(
    "关于该需求的投诉",
    ("complaint_id", "received_at", "outcome"),
    complaint_id=answers.STRING,
    received_at=answers.STRING,
    outcome=answers.STRING,
)
CALL_BACK_ROW = answers.record(
    "回访",
    ("call_back_id", "survey_id", "due_at", "status"),
    call_back_id=answers.STRING,
    survey_id=answers.STRING,
    due_at=answers.STRING,
    status=answers.STRING,
)
IMPROVEMENT_ROW = answers.record(
    "改进事项（9.3）",
    ("item_id", "status", "actions"),
    item_id=answers.STRING,
    source=answers.STRING,
    ref=answers.STRING,
    institution_id=answers.STRING,
    staff_id=answers.STRING,
    demand_id=answers.STRING,
    finding=answers.STRING,
    owner=answers.STRING,
    actions=answers.listing(answers.STRING),
    deadline=answers.STRING,
    opened_at=answers.STRING,
    status=answers.STRING,
    escalated=answers.INTEGER,
    closed_at=answers.STRING,
)
RATE = answers.maybe(answers.NUMBER)  # 0 到 1；无可计数的事项：null
EFFICIENCY_FIGURES = answers.record(
    "服务人员效能数据（9.2.2）",
    ("staff_id", "since", "until", "professionalism", "timeliness", "integrity"),
    staff_id=answers.STRING,
    since=answers.STRING,
    until=answers.STRING,
    professionalism=answers.record(
        "专业性",
        (),
        contract_reviews=answers.INTEGER,
        contract_reviews_passed=answers.INTEGER,
        contract_review_pass_rate=RATE,
        notice_violations=answers.INTEGER,
    ),
    timeliness=answers.record(
        "及时性",
        (),
        referrals_completed=answers.INTEGER,
        referrals_on_time=answers.INTEGER,
        sla_hit_rate=RATE,
        first_responses=answers.INTEGER,
        first_response_working_hours=answers.maybe(answers.NUMBER),
    ),
    integrity=answers.record(
        "廉洁性",
        (),
        complaints_naming_staff=answers.INTEGER,
        upheld_complaints=answers.INTEGER,
        integrity_basis=answers.STRING,
    ),
    satisfaction=SATISFACTION,
)
# a staff member's (staff_id) or an institution's (institution_id) services
# ended in [since, until)
RECORDS_ANSWER = answers.record(
    "服务记录、意见与满意度（9.1.2）",
    ("since", "until", "services", "opinions", "satisfaction"),
    staff_id=answers.STRING,
    institution_id=answers.STRING,
    since=answers.STRING,
    until=answers.STRING,
    services=answers.listing(SURVEY_ROW),
    opinions=answers.listing(OPINION),
    satisfaction=SATISFACTION,
)
DEMAND_RECORDS = answers.record(
    "一项需求的服务记录（9.1.2）",
    ("demand_id",),
    demand_id=answers.STRING,
    case=answers.maybe(CASE_FACTS),  # 评价服务尚未收到该需求的事实：null
    services=answers.listing(SURVEY_ROW),
    opinions=answers.listing(OPINION),
    satisfaction=SATISFACTION,
    complaints=answers.listing(COMPLAINT_ROW),
    call_backs=answers.listing(CALL_BACK_ROW),
    improvements=answers.listing(IMPROVEMENT_ROW),
)


class EfficiencyRoutes:
    @route(
        "GET",
        STAFF + "/efficiency",
        efficiency.figures,
        "服务人员效能指标（9.2.2，本机构管理人员）",
        query=PERIOD,
        answer=EFFICIENCY_FIGURES,
    )
    def efficiency_figures(self, call: Call):
        """The figures as they stand: ``?since=…&until=…`` (aware ISO times)."""
        return call.run(**_period(call))

    @route(
        "POST",
        STAFF + "/efficiency-assessments",
        efficiency.assess,
        "进行效能评价并留存（管理人员）",
        body=fields({"since": MOMENT, "until": MOMENT}, ("since", "until")),
        status=201,
        answer=ASSESSMENT_ANSWER,
    )
    def assess_efficiency(self, call: Call):
        """Store the figures of a period as the assessment."""
        return call.run(since=call.body["since"], until=call.body["until"])

    efficiency_assessment = endpoint(
        "GET", ASSESSMENT, efficiency.assessment, "效能评价", answer=ASSESSMENT_ANSWER
    )

    @route(
        "POST",
        ASSESSMENT + "/comments",
        efficiency.comment,
        "管理人员对效能评价的意见",
        body=fields({"comment": text("评价意见", 2000)}, ("comment",)),
        answer=ASSESSMENT_ANSWER,
    )
    def comment_efficiency(self, call: Call):
        return call.run(comment=call.body["comment"])

    open_improvement = endpoint(
        "POST",
        ASSESSMENT + "/improvements",
        efficiency.open_improvement,
        "由效能评价发现的问题登记整改事项（9.3）",
        form,
        body=fields(
            {
                "finding": text("存在的问题", 2000),
                **PLAN,
                "institution_id": ignored("机构", "为被评价人员所属机构"),
            },
            ("finding",),
        ),
        status=201,
        answer=IMPROVEMENT_ANSWER,
    )

    improvement_item = endpoint(
        "GET", ITEM, efficiency.improvement, "整改事项", answer=IMPROVEMENT_ANSWER
    )

    @route(
        "POST",
        ITEM + "/plan",
        efficiency.PLAN,
        "确定整改计划：责任人、措施、期限（管理人员）",
        body=fields(PLAN),
        answer=IMPROVEMENT_ANSWER,
    )
    def plan_improvement(self, call: Call):
        return call.run(fields=_fields(call))

    @route(
        "POST",
        ITEM + "/progress",
        efficiency.PROGRESS,
        "责任人记录整改进展",
        body=fields({"note": text("整改进展", 2000)}, ("note",)),
        answer=IMPROVEMENT_ANSWER,
    )
    def improvement_progress(self, call: Call):
        return call.run(fields=_fields(call))

    @route(
        "POST",
        ITEM + "/closure",
        efficiency.CLOSE,
        "关闭整改事项并写明结果（管理人员）",
        body=fields({"result": text("整改结果", 2000)}, ("result",)),
        answer=IMPROVEMENT_ANSWER,
    )
    def close_improvement(self, call: Call):
        return call.run(fields=_fields(call))

    # -- per-service records (9.1.2) ------------------------------------------

    demand_evaluation_records = endpoint(
        "GET",
        "/api/v1/demands/{demand_id}/evaluation-records",
        efficiency.demand_records,
        "一次需求的评价、意见与投诉记录（9.1.2）",
        answer=DEMAND_RECORDS,
    )

    @route(
        "GET",
        STAFF + "/records",
        efficiency.staff_records,
        "服务人员办结的服务及其评价（9.1.2）",
        query=PERIOD,
        answer=RECORDS_ANSWER,
    )
    def staff_evaluation_records(self, call: Call):
        """Their managers, the regulator and the staff member themselves."""
        return call.run(**_period(call))

    @route(
        "GET",
        "/api/v1/evaluation/institutions/{institution_id}/records",
        efficiency.institution_records,
        "本机构办结的服务及其评价（9.1.2）",
        query=PERIOD,
        answer=RECORDS_ANSWER,
    )
    def institution_evaluation_records(self, call: Call):
        return call.run(**_period(call))

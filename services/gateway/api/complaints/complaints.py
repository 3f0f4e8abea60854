"""Complaints and suggestions over HTTP (9.1.1, 9.4, GB/T 19012): filed
without a login and followed by code; the handling institution's list,
figures, comment cards and handling steps."""

from __future__ import annotations

from datetime import date, timedelta

from services.gateway.routing import answers
from services.gateway.routing.body import (
    NOTHING,
    choice,
    fields,
    flag,
    ignored,
    text,
)
from services.gateway.routing.declare import (
    Call,
    commands,
    declare,
    endpoint,
    form,
    route,
)
from services.gateway.routing.query import DATE, PAGE, iso_date, param
from services.gateway.usecases import complaints
from shared.errors import ValidationFailed

COMPLAINT = "/api/v1/complaints/{complaint_id}"
CARD = "/api/v1/comment-cards/{card_id}"
FILED = fields(
    {
        "channel": text("投诉渠道", 20),
        "anonymous": flag("匿名投诉"),
        "complainant_name": text("姓名", 50),
        "complainant_phone": text("联系电话", 30),
        "description": text("投诉内容", 2000),
        "remedy_requested": text("期望的处理方式", 500),
        # a complaint about a case names it by the case's progress code; the
        # institution and staff are the case's (9.4), never the sender's
        "progress_code": text("需求查询码", 10),
        "received_at": ignored("收到时间", "以平台的时钟为准"),
    },
    required=("channel", "description", "remedy_requested"),
)
CARD_BODY = fields(
    {
        "source": choice("来源", ["hotline", "suggestion_box"]),
        "text": text("内容", 2000),
        "contact_name": text("联系人", 50),
        "contact_phone": text("联系电话", 30),
        "institution_id": ignored("机构", "以登记者的机构为准"),
    }
)
TEXT = text("说明", 2000)
STEPS = {
    "acknowledge": ({"handler": ignored("受理人", "受理人为确认受理的人")}, ()),
    "assess": (
        {
            "severity": text("严重程度", 16),
            "complexity": text("复杂程度", 16),
            "impact": TEXT,
            "immediate_action": flag("需立即处理"),
        },
        ("severity", "complexity", "impact"),
    ),
    "assign_investigator": ({"investigator": text("调查人", 60)}, ("investigator",)),
    "decide": (
        {"outcome": text("处理结论", 32), "response": TEXT, "remedy": TEXT},
        ("outcome", "response"),
    ),
    "communicate": ({"method": text("告知方式", 60), "note": TEXT}, ("method",)),
    "accept": ({}, ()),
    "reject": ({"reason": TEXT}, ("reason",)),
    "record_review": (
        {"reviewer": text("复核人", 60), "findings": TEXT},
        ("reviewer", "findings"),
    ),
    "record_consent": ({"note": TEXT}, ("note",)),
    "refer_to_dispute": (
        {"provider": text("争议解决机构", 100), "method": text("争议解决方式", 32)},
        ("provider", "method"),
    ),
    "record_dispute_outcome": ({"outcome": TEXT}, ("outcome",)),
    "agree_corrective_action": (
        {"action": TEXT, "owner": text("责任人", 60)},
        ("action", "owner"),
    ),
}
# -- answers -----------------------------------------------------------------
# what the complaint is about, each link present only when known (9.2.2)
COMPLAINT_LINKS = answers.record(
    "投诉关联的需求、转办、机构与服务人员",
    (),
    demand_id=answers.STRING,
    referral_id=answers.STRING,
    institution_id=answers.STRING,
    staff_id=answers.STRING,
)
CORRECTIVE_ACTION = answers.record(
    "纠正措施",
    ("action", "owner"),
    action=answers.STRING,
    owner=answers.STRING,
)
COMPLAINT_ANSWER = answers.record(
    "投诉（对无权查看身份的角色已遮蔽）",
    ("id", "number", "status"),
    id=answers.STRING,
    number=answers.STRING,
    status=answers.STRING,
    status_label=answers.STRING,
    channel=answers.STRING,
    channel_label=answers.STRING,
    anonymous=answers.BOOLEAN,
    received_at=answers.STRING,
    links=COMPLAINT_LINKS,
    escalated_stages=answers.listing(answers.STRING),  # 已逾期上报的阶段
    corrective_actions=answers.listing(CORRECTIVE_ACTION),
    version=answers.INTEGER,
    # the service policy it is judged by (null: the defaults) and the
    # deadline of each stage: acknowledge, respond, close (9.4)
    policy_version=answers.maybe(answers.INTEGER),
    deadlines=answers.mapping(answers.STRING),
)
FILED_ANSWER = answers.record(
    "收到的投诉：编号与投诉码",
    ("id", "number", "code"),
    id=answers.STRING,
    number=answers.STRING,
    code=answers.STRING,
)
STATUS_ANSWER = answers.record(
    "凭投诉码看到的处理进度（不含个人信息）",
    ("number", "stage", "stages", "deadlines", "decision", "may_respond"),
    number=answers.STRING,
    stage=answers.STRING,
    stages=answers.listing(answers.STRING),
    deadlines=answers.listing(
        answers.record(
            "承诺时限",
            ("stage", "label", "due", "done"),
            stage=answers.STRING,
            label=answers.STRING,
            due=answers.STRING,
            done=answers.BOOLEAN,
        )
    ),
    decision=answers.maybe(
        answers.record(
            "已告知的处理结果",
            ("outcome_label", "response", "remedy"),
            outcome_label=answers.STRING,
            response=answers.STRING,
            remedy=answers.STRING,
        )
    ),
    may_respond=answers.BOOLEAN,
)
CARD_ANSWER = answers.record(
    "意见卡", ("id",), id=answers.STRING, institution_id=answers.STRING
)
FIGURES_ANSWER = answers.record(
    "投诉统计",
    ("since", "until", "received"),
    since=answers.STRING,
    until=answers.STRING,
    received=answers.INTEGER,
    by_channel=answers.mapping(answers.INTEGER),
    by_severity=answers.mapping(answers.INTEGER),
)


STEP_ROUTES = {
    name: declare(
        "POST",
        f"{COMPLAINT}/{name}",
        use,
        f"投诉处理：{name}（GB/T 19012）",
        body=fields(*STEPS[name]) if STEPS[name][0] else NOTHING,
        served_by=f"{COMPLAINT}/{{command}}",
        answer=COMPLAINT_ANSWER,
    )
    for name, use in complaints.COMMANDS.items()
}
assert set(STEPS) == set(STEP_ROUTES), "every handling step has its body"


def _period(call: Call) -> tuple[str, str]:
    """``?since=&until=`` as dates in Beijing time, ``until`` included."""
    since = iso_date(call.arg("since", None), "since")
    until = iso_date(call.arg("until", None), "until")
    if until < since:
        raise ValidationFailed.single("until", "结束日期不能早于开始日期")
    after = (date.fromisoformat(until) + timedelta(days=1)).isoformat()
    return f"{since}T00:00:00+08:00", f"{after}T00:00:00+08:00"


def _step(gw, call: Call):
    """One GB/T 19012 handling step; the body holds its fields."""
    return call.run(fields=call.body)


class ComplaintRoutes:
    file_complaint = endpoint(
        "POST",
        "/api/v1/public/complaints",
        complaints.file,
        "投诉（9.1.1）：无需登录，返回用于查询的投诉码",
        form,
        body=FILED,
        status=201,
        answer=FILED_ANSWER,
    )

    complaint_status = endpoint(
        "GET",
        "/api/v1/public/complaints/{code}",
        complaints.status,
        "按投诉码查询处理进度",
        guard="code",
        answer=STATUS_ANSWER,
    )
    accept_decision = endpoint(
        "POST",
        "/api/v1/public/complaints/{code}/acceptance",
        complaints.accept_decision,
        "投诉人凭投诉码接受处理结果（办结）",
        guard="code",
        body=NOTHING,
        answer=STATUS_ANSWER,
    )
    reject_decision = endpoint(
        "POST",
        "/api/v1/public/complaints/{code}/rejection",
        complaints.reject_decision,
        "投诉人凭投诉码不接受处理结果，写明理由（转内部复核）",
        form,
        guard="code",
        body=fields({"reason": text("不接受的理由", 2000)}, ("reason",)),
        answer=STATUS_ANSWER,
    )

    @route(
        "GET",
        "/api/v1/complaints",
        complaints.listed,
        "本机构处理的投诉（投诉处理人员、管理人员；监管人员：全部），分页",
        query=(*PAGE, param("status")),
        answer=answers.page(COMPLAINT_ANSWER),
    )
    def list_complaints(self, call: Call):
        offset, limit = call.page()
        return call.run(status=call.arg("status"), offset=offset, limit=limit)

    @route(
        "GET",
        "/api/v1/complaint-figures",
        complaints.figures,
        "某一期间收到的投诉及其处理情况（本机构；监管人员可指定机构）",
        query=(
            param("since", required=True, schema=DATE),
            param("until", required=True, schema=DATE),
            param("institution"),
        ),
        answer=FIGURES_ANSWER,
    )
    def complaint_figures(self, call: Call):
        since, until = _period(call)
        return call.run(since=since, until=until, institution=call.arg("institution"))

    record_card = endpoint(
        "POST",
        "/api/v1/comment-cards",
        complaints.record_card,
        "登记意见箱、监督热线的意见卡（9.1.1，投诉处理人员）",
        form,
        body=CARD_BODY,
        status=201,
        location="/api/v1/comment-cards/{id}",
        answer=CARD_ANSWER,
    )

    get_card = endpoint(
        "GET", CARD, complaints.card, "意见卡（本机构）", answer=CARD_ANSWER
    )

    @route(
        "POST",
        CARD + "/classification",
        complaints.classify_card,
        "意见卡分类：建议、表扬或投诉（投诉即立案）",
        body=fields(
            {"kind": choice("分类", ["suggestion", "praise", "complaint"])},
            required=("kind",),
        ),
        answer=CARD_ANSWER,
    )
    def classify_card(self, call: Call):
        return call.run(kind=call.body["kind"])

    get_complaint = endpoint(
        "GET",
        COMPLAINT,
        complaints.complaint,
        "投诉详情（投诉处理人员、监管人员；本机构管理人员看到的投诉人信息已遮蔽）",
        answer=COMPLAINT_ANSWER,
    )

    complaint_command = commands("POST", f"{COMPLAINT}/{{command}}", STEP_ROUTES, _step)

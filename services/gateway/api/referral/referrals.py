"""Referrals over HTTP: the partner's inbox, one referral, the commands of each
side (8.3.4, 8.3.5), report verification by code, a partner's standing (4.1)
and tasks registered without a customer's demand (5.2.2 b, 6.9)."""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.body import (
    NOTHING,
    choice,
    fields,
    flag,
    text,
    whole,
)
from services.gateway.routing.declare import (
    Call,
    commands,
    declare,
    endpoint,
    route,
)
from services.gateway.routing.query import ON, PAGE
from services.gateway.routing.query import day as query_day
from services.gateway.usecases import referrals
from services.referral.contract import PROGRESS_STAGES

REFERRAL = "/api/v1/referrals/{referral_id}"
REASON = text("原因", 500)
REPORT = fields(
    {
        "report_no": text("报告编号", 64),
        "issued_on": text("签发日期", 10, format="date"),
        "sha256": text("电子报告的 SHA-256", 64),
        "conclusion": text("结论", 500),
    },
    title="报告",
)
BODIES = {
    "acceptance": ("签收转办（承接机构）", NOTHING),
    "return": (
        "退回转办，须写明原因（承接机构）",
        fields({"reason": REASON}, ("reason",)),
    ),
    "progress": (
        "报告办理进度（收样、检测、编制报告等）",
        fields(
            {"stage": choice("办理环节", PROGRESS_STAGES), "note": text("说明", 500)},
            ("stage",),
        ),
    ),
    "extension-request": (
        "在期限前申请延期，须写明原因",
        fields(
            {
                "stage": text("延期环节", 32),
                "days": whole("延期工作日数"),
                "reason": REASON,
            },
            ("stage", "days", "reason"),
        ),
    ),
    "completion": (
        "办结并登记报告（编号、日期、电子报告哈希）",
        fields({"report": REPORT}, ("report",)),
    ),
    "feedback": (
        "向首问负责人反馈办理结果（闭环）",
        fields({"summary": text("反馈内容", 2000)}, ("summary",)),
    ),
    "failure": ("无法完成，须写明原因", fields({"reason": REASON}, ("reason",))),
    "report-replacement": (
        "以新报告替换已出具的报告",
        fields({"report": REPORT}, ("report",)),
    ),
    "report-revocation": (
        "撤销已出具的报告",
        fields({"reason": REASON}, ("reason",)),
    ),
    "matching": ("匹配机构", NOTHING),
    "pick": (
        "另选一家具备资质的机构（4.1）",
        fields(
            {"institution_id": text("机构", 64), "reason": REASON},
            ("institution_id", "reason"),
        ),
    ),
    "expert": (
        "转给专家（5.2.2 c）",
        fields(
            {"expert_id": text("专家", 64), "reason": REASON}, ("expert_id", "reason")
        ),
    ),
    "sending": ("发送转办", NOTHING),
    "hold": ("暂停", fields({"reason": REASON}, ("reason",))),
    "resumption": ("恢复办理", NOTHING),
    "cancellation": ("取消转办", fields({"reason": REASON}, ("reason",))),
    "ruling": (
        "裁定承办机构（反复退回时）",
        fields(
            {"institution_id": text("机构", 64), "reason": REASON},
            ("institution_id", "reason"),
        ),
    ),
    "qualification-rerouting": (
        "承接机构资质失效时改派下一家具备资质的机构，无可选机构时待裁定（4.1）",
        fields({"reason": REASON}, ("reason",)),
    ),
    "extension-decision": (
        "批准或不批准延期",
        fields({"approve": flag("是否批准"), "note": text("说明", 500)}, ("approve",)),
    ),
}
# -- answers -----------------------------------------------------------------
REFERRAL_ANSWER = answers.record(
    "转办（8.3.4）",
    ("id",),
    id=answers.STRING,
    demand_id=answers.maybe(answers.STRING),
    item_code=answers.maybe(answers.STRING),
    status=answers.STRING,
    version=answers.INTEGER,
)
CERTIFICATE_STANDING = answers.record(
    "资质证书在某日的状态：有效、暂停、撤销或过期",
    ("cert_no", "scope_codes", "valid_to", "status"),
    cert_no=answers.STRING,
    scope_codes=answers.listing(answers.STRING),
    valid_to=answers.STRING,
    status=answers.STRING,
)
STANDING_ANSWER = answers.record(
    "合作机构的资质在某日的状态（4.1）",
    ("institution_id", "on", "total", "offset", "limit", "items"),
    institution_id=answers.STRING,
    on=answers.STRING,
    total=answers.INTEGER,
    offset=answers.INTEGER,
    limit=answers.INTEGER,
    items=answers.listing(CERTIFICATE_STANDING),
)
REPORT_CHECK = answers.record(
    "报告核验结果：有效、已替换或已撤销",
    ("report_no", "issued_on", "sha256", "status", "status_label", "item_code"),
    report_no=answers.STRING,
    issued_on=answers.STRING,
    sha256=answers.STRING,  # 报告文件的 SHA-256，可与手中的文件比对
    status=answers.STRING,
    status_label=answers.STRING,
    item_code=answers.STRING,
)


COMMANDS = {
    name: declare(
        "POST",
        f"{REFERRAL}/{name}",
        referrals.COMMANDS[name],
        summary,
        body=body,
        once=f"referral/{{referral_id}}/{name}",
        served_by=f"{REFERRAL}/{{command}}",
        answer=REFERRAL_ANSWER,
    )
    for name, (summary, body) in BODIES.items()
}
TASK = fields(
    {
        "kind": choice("任务类型", ["government", "recall"]),
        "item_code": text("服务事项编码", 10),
        "requester_name": text("委托单位", 100),
        "description": text("任务说明", 2000),
        "green_channel": flag("绿色通道"),
    },
    required=("kind", "requester_name", "description"),
)


def _run_command(gw, call: Call):
    """A command on a referral; whose it is comes before what the body says."""
    return call.run(body=call.body)


class ReferralRoutes:
    referral_inbox = endpoint(
        "GET",
        "/api/v1/referrals",
        referrals.inbox,
        "本机构收到的转办（收件箱）",
        paged=True,
        query=PAGE,
        answer=answers.page(REFERRAL_ANSWER),
    )

    get_referral = endpoint(
        "GET", REFERRAL, referrals.view, "转办详情", answer=REFERRAL_ANSWER
    )

    referral_command = commands(
        "POST", f"{REFERRAL}/{{command}}", COMMANDS, _run_command
    )

    @route(
        "GET",
        "/api/v1/partners/{institution_id}/standing",
        referrals.standing,
        "合作机构的资质及其在某日的状态（4.1；本机构管理人员、平台管理员、监管人员）",
        query=(ON, *PAGE),
        answer=STANDING_ANSWER,
    )
    def partner_standing(self, call: Call):
        """Each certificate's status on ``?on=`` (default today)."""
        on = query_day(call.arg("on"))
        found = call.run(on=on)
        return {
            "institution_id": call.ids["institution_id"],
            "on": on,
            **call.paged(found),
        }

    verify_report = endpoint(
        "GET",
        "/api/v1/public/reports/{code}",
        referrals.verify_report,
        "按验证码核验报告：有效、已替换或已撤销",
        guard="report",
        answer=REPORT_CHECK,
    )

    @route(
        "POST",
        "/api/v1/referral-tasks",
        referrals.open_task,
        "登记政府委托任务（5.2.2 b）或产品召回技术支持（6.9）",
        body=TASK,
        status=201,
        once="referral-tasks",
        codes=(404,),  # no such service item
        answer=REFERRAL_ANSWER,
    )
    def open_referral_task(self, call: Call):
        """The referral is then matched and sent like any other."""
        return call.run(body=call.body)

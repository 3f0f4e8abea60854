"""The bodies and answers of the demand routes (8.2, 7.4): the Appendix B
form, each staff command's body, and what each read answers."""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.body import (
    choice,
    fields,
    flag,
    listed,
    mapping,
    text,
    texts,
)
from services.gateway.routing.query import param
from services.intake.contract import CHANNELS, CUSTOMER_KINDS

CHANNEL = choice("受理渠道", CHANNELS)
NEED = fields(
    {"item_code": text("服务事项编码", 10), "description": text("需求描述", 2000)},
    required=("item_code", "description"),
)
# Appendix B's lines, checked for what they say by intake
APPENDIX_B = {
    "applicant": text("申请人", 100),
    "contact_phone": text("联系电话", 20),
    "contact_email": text("电子邮箱", 100),
    "channel": CHANNEL,
    "needs": listed("服务需求", NEED, most=10),
    "service_item_code": text("服务事项编码", 10),
    "description": text("需求描述", 2000),
    "customer_kind": choice("客户类型", CUSTOMER_KINDS),
    "credit_code": text("统一社会信用代码", 32),
    "feedback_time": text("反馈时间", 10, format="date"),
    "address": text("详细地址", 200),
    "contact_person": text("联系人", 50),
    "position": text("职务", 50),
    "service_staff": text("服务人员", 50),
    "main_business": text("主营业务", 500),
}
REGISTRATION = fields(APPENDIX_B, required=("applicant", "contact_phone", "channel"))


def _command(summary: str, properties: dict, required=()) -> tuple:
    return summary, fields({**properties, "channel": CHANNEL}, required)


REASON = text("原因", 500)
# how long a demand may wait for its first responder (7.4.2), in working hours
WORKING_HOURS = param(
    "working_hours", schema={"type": "number", "minimum": 0, "maximum": 10_000}
)
BODIES = {
    "take": _command("受理（首问负责，7.4.2）", {}),
    "handover": _command(
        "提出移交（须写明原因）",
        {"to_staff": text("接收人", 200), "reason": text("移交原因", 200)},
        ("to_staff", "reason"),
    ),
    "handover-withdrawal": _command(
        "撤回尚未接收的移交（提出人）",
        {"reason": text("撤回原因", 200)},
        ("reason",),
    ),
    "reassignment": _command(
        "改派首问负责人（管理人员，7.4.2；须写明原因）",
        {"to_staff": text("新负责人", 200), "reason": text("改派原因", 500)},
        ("to_staff", "reason"),
    ),
    "correction": _command(
        "更正登记表（附录B；按登记规则校验，须写明原因，原值留在历史中）",
        {
            **{k: v for k, v in APPENDIX_B.items() if k != "channel"},
            "reason": text("更正原因", 500),
        },
        ("reason",),
    ),
    "handover-answer": _command(
        "接收或拒绝移交",
        {"accept": flag("是否接收"), "reason": text("原因", 200)},
        ("accept",),
    ),
    "follow-ups": _command(
        "记录跟进（8.3.5）", {"note": text("跟进记录", 2000)}, ("note",)
    ),
    "materials-notice": _command(
        "一次性告知需补充的材料（7.4.3）",
        {
            "provided": texts("已提供的材料"),
            "nonconforming": mapping("不符合要求的材料", text("问题", 500)),
        },
    ),
    "supplements": _command(
        "登记客户补充的材料", {"items": texts("补充的材料")}, ("items",)
    ),
    "green-channel": _command(
        "开通绿色通道（7.4.5）", {"reason": text("开通原因", 500)}, ("reason",)
    ),
    "contract-review": _command(
        "合同评审（5.3.1.2）",
        {
            "checks": fields(
                {
                    "capability": flag("具备服务能力"),
                    "method": flag("方法适用"),
                    "cycle": flag("周期可满足"),
                    "fee": flag("费用已告知"),
                },
                required=("capability", "method", "cycle", "fee"),
                title="评审结果",
            )
        },
        ("checks",),
    ),
    "decision": _command(
        "分流：当场答复、本机构办理或转办（8.3.1–8.3.4）",
        {
            "outcome": choice("分流结果", ["answered", "in_house", "referred"]),
            "details": fields(
                {
                    "answer": text("答复内容", 2000),
                    "department": text("承办部门", 200),
                    "items": texts("转办事项", 10),
                    "quote_id": text("报价编号", 64),
                },
                title="分流说明",
            ),
        },
        ("outcome",),
    ),
    "resolution": _command("办结", {"summary": text("办结说明", 2000)}, ("summary",)),
    "reopening": _command(
        "重新办理（须写明原因）", {"reason": text("重新办理原因", 500)}, ("reason",)
    ),
}
# -- answers -----------------------------------------------------------------
NEED_ANSWER = answers.record(
    "服务需求", (), item_code=answers.STRING, description=answers.STRING
)
DEMAND_FIELDS = {
    "id": answers.STRING,
    "status": answers.STRING,
    "channel": answers.STRING,
    "institution": answers.STRING,
    "owner": answers.maybe(answers.STRING),
    "needs": answers.listing(NEED_ANSWER),
    "registered_at": answers.STRING,
    "outstanding_materials": answers.listing(answers.STRING),
    "version": answers.INTEGER,
}
DEMAND_ANSWER = answers.record("需求", ("id", "status", "version"), **DEMAND_FIELDS)
# Appendix B's form as registered (masked for a reader without need of
# personal data); a line the customer left empty is ""
REGISTRATION_ANSWER = answers.record(
    "登记表（附录 B）",
    ("applicant", "contact_phone", "channel", "needs"),
    applicant=answers.STRING,
    contact_phone=answers.STRING,
    channel=answers.STRING,
    needs=answers.listing(NEED_ANSWER),
    customer_kind=answers.STRING,
    credit_code=answers.STRING,
    address=answers.STRING,
    contact_person=answers.STRING,
    position=answers.STRING,
    service_staff=answers.STRING,
    feedback_time=answers.STRING,
    main_business=answers.STRING,
    contact_email=answers.STRING,
)
REFERRAL_BRIEF = answers.record(
    "需求某一事项的转办",
    ("id", "demand_id", "item_code", "state"),
    id=answers.STRING,
    demand_id=answers.STRING,
    item_code=answers.STRING,
    state=answers.STRING,
    state_label=answers.STRING,
    opened_at=answers.STRING,
)
STAGE = answers.record(
    "办理阶段", ("stage", "at"), stage=answers.STRING, at=answers.STRING
)
DEMAND_VIEW = answers.record(
    "需求、登记表（对监管人员脱敏）与转办",
    ("id", "status", "registration", "referrals"),
    **DEMAND_FIELDS,
    registration=REGISTRATION_ANSWER,
    referrals=answers.listing(REFERRAL_BRIEF),
)
# a customer online is told the demand's id and its code, nothing else
REGISTERED = answers.record(
    "登记的需求",
    ("id", "status", "registered_at"),
    id=answers.STRING,
    status=answers.STRING,
    registered_at=answers.STRING,
    progress_code=answers.STRING,
)
DEMAND_ROW = answers.record(
    "需求列表的一行",
    ("demand_id", "status"),
    demand_id=answers.STRING,
    status=answers.STRING,
    status_label=answers.STRING,
    owner=answers.maybe(answers.STRING),
    green_channel=answers.BOOLEAN,
    institution=answers.STRING,
    channel=answers.STRING,
    registered_at=answers.STRING,
)
HISTORY_ROW = answers.record("需求的事件", (), event=answers.STRING)
PROGRESS = answers.record(
    "办理进度（不含个人信息）",
    ("status", "stages"),
    status=answers.STRING,
    status_label=answers.STRING,
    green_channel=answers.BOOLEAN,
    items=answers.listing(answers.STRING),
    outstanding_materials=answers.listing(answers.STRING),
    stages=answers.listing(STAGE),
)

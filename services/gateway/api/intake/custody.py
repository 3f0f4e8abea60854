"""A demand's custody over HTTP (7.4.4): door-to-door visits, samples and
their chain of custody, returns and disposal, report delivery. Each write is
staff's of the demand's institution, kept per Idempotency-Key, answered 201.
"""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.body import (
    choice,
    day,
    fields,
    moment,
    text,
    texts,
    whole,
)
from services.gateway.routing.declare import Call, endpoint, route
from services.gateway.usecases import custody
from services.gateway.usecases.common import now
from services.intake.contract import CONDITIONS, REPORT_METHODS, VISITS

DEMAND = "/api/v1/demands/{demand_id}"
VISIT = fields(
    {
        "kind": choice("上门服务类型", VISITS),
        "address": text("上门地址", 200),
        "preferred_date": day("期望日期"),
        "contact": text("联系人", 50),
        "phone": text("联系电话", 20),
    },
    required=("kind", "address", "preferred_date", "contact", "phone"),
)
SAMPLE = fields(
    {
        "sample_id": text("样品编号", 64),
        "description": text("样品描述", 500),
        "quantity": whole("样品数量"),
        "condition": choice("样品状态", CONDITIONS),
        "note": text("备注", 500),
        "courier": text("取样人员", 64),
    },
    required=("sample_id", "description", "quantity", "condition"),
)
MOVEMENT = {
    "sample_ids": texts("样品编号", 64, most=200),
    "from_party": text("交出人", 64),
    "place": text("地点", 200),
    "at": moment("时间（默认为现在）"),
}
CONDITION = {"condition": choice("样品状态", CONDITIONS), "note": text("备注", 500)}
HANDOVER = fields(
    {**MOVEMENT, "to_party": text("接收人", 64), **CONDITION},
    required=("sample_ids", "from_party", "to_party", "place"),
)
RETURN = fields(
    {**MOVEMENT, "to_party": text("接收人（默认为客户）", 64), **CONDITION},
    required=("sample_ids", "from_party", "place"),
)
DISPOSAL = fields(
    {**MOVEMENT, "method": text("处置方式", 200)},
    required=("sample_ids", "from_party", "place", "method"),
)
DELIVERY = fields(
    {
        "report_no": text("报告编号", 64),
        "method": choice("送达方式", REPORT_METHODS),
        "address": text("邮寄地址", 200),
        "tracking_no": text("快递单号", 64),
        "email": text("电子邮箱", 100),
        "reason": text("再次送达原因", 500),
        "at": moment("送达时间（默认为现在）"),
    },
    required=("report_no", "method"),
)


def _write(path: str, command: str, summary: str, body: dict, what: str, answer: dict):
    return route(
        "POST",
        DEMAND + path,
        custody.COMMANDS[command],
        summary,
        body=body,
        status=201,
        once=f"demand/{{demand_id}}/{what}",
        answer=answer,
    )


def _run(call: Call, *args, **named):
    return call.run(channel="web", args=args, **named)


# -- answers -----------------------------------------------------------------
VISIT_ROW = answers.record(
    "上门服务申请（上门受理或上门取样）",
    ("kind", "kind_label", "address", "preferred_date", "contact", "phone"),
    kind=answers.STRING,
    kind_label=answers.STRING,
    address=answers.STRING,  # 无权查看个人信息者见到的是遮盖后的文字
    preferred_date=answers.STRING,
    contact=answers.STRING,
    phone=answers.STRING,
)
SAMPLE_ROW = answers.record(
    "样品及其当前持有人",
    ("id", "description", "quantity", "condition", "holder", "state"),
    id=answers.STRING,
    description=answers.STRING,
    quantity=answers.INTEGER,
    condition=answers.STRING,
    note=answers.STRING,
    holder=answers.maybe(answers.STRING),  # 处置后无人持有
    state=answers.STRING,
    state_label=answers.STRING,
    movements=answers.INTEGER,
)
MOVEMENT_ROW = answers.record(
    "样品的一次流转（交接、退还或处置）",
    ("action", "action_label", "samples", "from_party", "at"),
    action=answers.STRING,
    action_label=answers.STRING,
    samples=answers.listing(answers.STRING),
    from_party=answers.STRING,
    to_party=answers.maybe(answers.STRING),  # 处置：无接收人
    at=answers.STRING,
    place=answers.STRING,
    condition=answers.maybe(answers.STRING),  # 处置：不记样品状态
    note=answers.STRING,
)
DELIVERY_ROW = answers.record(
    "报告的一次送达",
    ("report_no", "method", "method_label", "by", "at"),
    report_no=answers.STRING,
    method=answers.STRING,
    method_label=answers.STRING,
    fee=answers.maybe(answers.NUMBER),  # 邮寄：邮费按价目表另计
    by=answers.STRING,
    at=answers.STRING,
    address=answers.STRING,
    email=answers.STRING,
    tracking_no=answers.STRING,
    reason=answers.STRING,
)
CUSTODY_ANSWER = answers.record(
    "上门服务、样品流转与报告送达",
    ("demand_id", "visits", "samples", "movements", "deliveries"),
    demand_id=answers.STRING,
    visits=answers.listing(VISIT_ROW),
    samples=answers.listing(SAMPLE_ROW),
    movements=answers.listing(MOVEMENT_ROW),
    deliveries=answers.listing(DELIVERY_ROW),
    version=answers.INTEGER,
)
SAMPLE_CHAIN = answers.record(
    "样品及其流转链",
    ("demand_id", "sample", "chain"),
    demand_id=answers.STRING,
    sample=SAMPLE_ROW,
    chain=answers.listing(MOVEMENT_ROW),
)


def recorded(row: dict, title: str, *unlabelled: str) -> dict:
    """A command's answer: the record as intake stored it, without the
    labels (``unlabelled``) the custody view adds."""
    required = [name for name in row["required"] if name not in unlabelled]
    return answers.record(title, required, **row["properties"])


VISIT_MADE = recorded(VISIT_ROW, "申请的上门服务", "kind_label")
SAMPLE_MADE = recorded(SAMPLE_ROW, "登记的样品")
MOVED = recorded(MOVEMENT_ROW, "记录的流转", "action_label")
DELIVERED = recorded(DELIVERY_ROW, "记录的送达", "method_label")


class CustodyRoutes:
    demand_custody = endpoint(
        "GET",
        DEMAND + "/custody",
        custody.view,
        "需求的上门服务、样品及其持有人、流转与报告送达（7.4.4）",
        answer=CUSTODY_ANSWER,
    )

    @_write("/visits", "visit", "申请上门受理或上门取样", VISIT, "visits", VISIT_MADE)
    def request_visit(self, call: Call):
        b = call.body
        return _run(call, **{k: b.get(k) for k in VISIT["properties"]})

    @_write(
        "/samples",
        "sample",
        "登记样品（客户持有，或由上门取样人员持有）",
        SAMPLE,
        "samples",
        SAMPLE_MADE,
    )
    def register_sample(self, call: Call):
        b = call.body
        found = {k: b.get(k) for k in ("sample_id", "description", "quantity")}
        return _run(
            call,
            **found,
            condition=b.get("condition"),
            note=b.get("note") or "",
            courier=b.get("courier"),
        )

    sample_chain = endpoint(
        "GET",
        DEMAND + "/samples/{sample_id}",
        custody.sample_chain,
        "样品现状及其流转记录",
        inner=("sample_id",),
        answer=SAMPLE_CHAIN,
    )

    @_write(
        "/samples/handovers",
        "handover",
        "样品交接（只能由当前持有人交出）",
        HANDOVER,
        "handovers",
        MOVED,
    )
    def hand_over_samples(self, call: Call):
        b = call.body
        return _run(
            call,
            **{k: b.get(k) for k in ("sample_ids", "from_party", "place", "to_party")},
            at=b.get("at") or now(),
            condition=b.get("condition"),
            note=b.get("note", ""),
        )

    @_write(
        "/samples/returns",
        "return",
        "样品退还（默认退还客户）",
        RETURN,
        "returns",
        MOVED,
    )
    def return_samples(self, call: Call):
        b = call.body
        found = {k: b.get(k) for k in ("sample_ids", "from_party", "place")}
        if b.get("to_party"):  # else intake's default, the customer
            found["to_party"] = b["to_party"]
        return _run(
            call,
            **found,
            at=b.get("at") or now(),
            condition=b.get("condition"),
            note=b.get("note", ""),
        )

    @_write(
        "/samples/disposals",
        "disposal",
        "样品处置（写明处置方式）",
        DISPOSAL,
        "disposals",
        MOVED,
    )
    def dispose_samples(self, call: Call):
        b = call.body
        return _run(
            call,
            b.get("sample_ids"),
            b.get("from_party"),
            b.get("at") or now(),
            b.get("place"),
            b.get("method"),
        )

    @_write(
        "/report-deliveries",
        "delivery",
        "报告送达：邮寄、电子邮件（免费）或在线下载；再次送达须写明原因",
        DELIVERY,
        "deliveries",
        DELIVERED,
    )
    def deliver_report(self, call: Call):
        """Delivered by the caller; again only with a reason."""
        b = call.body
        optional = ("address", "email", "tracking_no", "reason")
        return _run(
            call,
            b.get("report_no"),
            b.get("method"),
            call.actor.id,
            b.get("at") or now(),
            **{name: b.get(name) for name in optional},
        )

"""Catalog resources over HTTP: service venues and their equipment (5.1,
5.1.6), shared instruments' registration (6.7), the expert pool (5.2.2 c)
and fee quotes on a demand (5.3.1.5)."""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.body import (
    NOTHING,
    choice,
    fields,
    flag,
    listed,
    mapping,
    text,
    texts,
    whole,
)
from services.gateway.routing.declare import Call, args_of, endpoint, form
from services.gateway.routing.query import DATE, ON, PAGE, param
from services.gateway.routing.query import day as query_day
from services.gateway.usecases import quotes, resources
from shared.errors import ValidationFailed

OWNER = "机构（平台管理员指明；其他人以本机构为准）"
VENUE = fields(
    {
        "institution_id": text(OWNER, 64),
        "kind": choice("场所类型", ["window", "site"]),
        "name": text("名称", 100),
        "address": text("地址", 200),
        "hours": mapping("开放时间", texts("时段", 32, most=10), most=7),
        "accepts": texts("受理的服务事项", 10),
        "contact_phone": text("联系电话", 32),
    },
    required=("kind", "name", "address"),
)
EQUIPMENT = fields(
    {
        "name": text("名称", 100),
        "category": text("类别", 32),
        "asset_no": text("资产编号", 64),
        "interval_days": whole("检查周期（天）"),
        "last_checked": text("上次检查日期", 10, format="date"),
    },
    required=("name", "category", "asset_no", "interval_days"),
)
MONEY = {"type": ["string", "number"], "title": "金额", "maxLength": 32}
INSTRUMENT = fields(
    {
        "owner_id": text(OWNER, 64),
        "name": text("名称", 100),
        "capabilities": texts("检测能力"),
        "price_per_hour": MONEY,
        "price_per_sample": MONEY,
        "rules": mapping("预约规则", whole("天数或分钟数"), most=10),
    },
    required=("name", "capabilities"),
)
EXPERT = fields(
    {
        "name": text("姓名", 50),
        "fields": texts("擅长的服务事项", 10),
        "title": text("职称", 50),
        "phone": text("联系电话", 20),
        "email": text("电子邮箱", 100),
        "specialities": texts("专长"),
        "institution_id": text("所在机构", 64),
    },
    required=("name", "fields", "title"),
)
LINE = fields(
    {
        "item_code": text("检测项目编码", 32),
        "parameter": text("检测参数/项目", 200),
        "unit_price": {**MONEY, "title": "单价"},
        "samples": whole("样品数量"),
    }
)
LINES = listed("收费明细", LINE, most=200)
DISCOUNT = {"type": ["string", "number"], "title": "折扣（%）", "maxLength": 16}
QUOTE = fields(
    {
        "lines": LINES,
        "discount_percent": DISCOUNT,
        "customer_kind": text("客户类型", 32),
        "green_channel": flag("绿色通道"),
    },
    required=("lines",),
)
REVISION = fields(
    {"lines": LINES, "discount_percent": DISCOUNT, "green_channel": flag("绿色通道")}
)
CHECK = fields(
    {
        "checked_on": text("检查日期", 10, format="date"),
        "result": text("检查结果", 32),
        "note": text("备注", 500),
    },
    required=("checked_on", "result"),
)
VENUES = "/api/v1/catalog/venues"
EXPERTS = "/api/v1/catalog/experts"
QUOTE_ROUTE = "/api/v1/quotes/{quote_id}"


def _args(*names: str):
    """The body's named fields, in order, as the quote change's arguments."""
    return lambda call: {"args": [call.body.get(name) for name in names]}


def _checked(call: Call) -> dict:
    b = call.body
    day = query_day(b["checked_on"], "checked_on")
    return {"checked_on": day, "result": b["result"], "note": b.get("note", "")}


def _expert_query(call: Call) -> dict:
    item = call.arg("item")
    if not item:
        raise ValidationFailed.single("item", "请给出服务事项编码")
    return {"item": item, "on": query_day(call.arg("on"))}


# -- answers -----------------------------------------------------------------
VENUE_ANSWER = answers.record(
    "服务场所", ("id",), id=answers.STRING, institution_id=answers.STRING
)
EQUIPMENT_ANSWER = answers.record("场所设备", (), id=answers.STRING)
EXPERT_ANSWER = answers.record("专家", (), id=answers.STRING)
REGISTERED_INSTRUMENT = answers.record(
    "共享仪器", ("id",), id=answers.STRING, name=answers.STRING
)
# amounts and percents are decimal text ("12.50"), never binary numbers
QUOTE_LINE = answers.record(
    "报价的一行：检测参数、样品数与金额",
    ("item_code", "parameter", "unit_price", "samples", "amount", "net"),
    item_code=answers.STRING,
    parameter=answers.STRING,
    unit_price=answers.STRING,
    samples=answers.INTEGER,
    amount=answers.STRING,
    volume_discount_percent=answers.STRING,
    volume_discount=answers.STRING,
    net=answers.STRING,
)
BREAKDOWN = answers.record(
    "报价的计算：各行、折扣、加急费与合计",
    ("lines", "subtotal", "total"),
    lines=answers.listing(QUOTE_LINE),
    customer_kind=answers.STRING,
    subtotal=answers.STRING,
    discount_percent=answers.STRING,
    discount_amount=answers.STRING,
    green_channel=answers.BOOLEAN,
    surcharge_percent=answers.STRING,
    surcharge_waived=answers.BOOLEAN,
    surcharge=answers.STRING,
    total=answers.STRING,
)
QUOTE_ANSWER = answers.record(
    "收费报价",
    ("id", "demand_id", "state", "revision", "breakdown"),
    id=answers.STRING,
    demand_id=answers.STRING,
    state=answers.STRING,  # 草稿、已出具、已接受或已撤回
    revision=answers.INTEGER,
    breakdown=BREAKDOWN,  # 当前版本的计算
    version=answers.INTEGER,
)


class ResourceRoutes:
    catalog_venues = endpoint(
        "GET",
        VENUES,
        resources.venues,
        "服务窗口与服务场所（公开）",
        args_of("institution"),
        paged=True,
        query=(param("institution"), *PAGE),
        answer=answers.page(VENUE_ANSWER),
    )
    open_catalog_venue = endpoint(
        "POST",
        VENUES,
        resources.open_venue,
        "开设本机构的服务窗口或场所",
        form,
        body=VENUE,
        status=201,
        answer=VENUE_ANSWER,
    )
    register_venue_equipment = endpoint(
        "POST",
        VENUES + "/{venue_id}/equipment",
        resources.register_equipment,
        "登记场所的设备及检查周期（5.1.6）",
        form,
        body=EQUIPMENT,
        status=201,
        answer=EQUIPMENT_ANSWER,
    )
    overdue_equipment = endpoint(
        "GET",
        "/api/v1/catalog/overdue-equipment",
        resources.overdue_equipment,
        "逾期未检查的设备",
        lambda call: {"today": query_day(call.arg("today"), "today")},
        paged=True,
        query=(param("today", schema=DATE), *PAGE),
        answer=answers.page(EQUIPMENT_ANSWER),
    )
    record_equipment_check = endpoint(
        "POST",
        "/api/v1/catalog/equipment/{equipment_id}/checks",
        resources.record_check,
        "记录设备定期检查（平台管理员）",
        _checked,
        body=CHECK,
        answer=EQUIPMENT_ANSWER,
    )
    register_catalog_instrument = endpoint(
        "POST",
        "/api/v1/catalog/instruments",
        resources.register_instrument,
        "登记本机构的共享大型仪器（6.7）",
        form,
        body=INSTRUMENT,
        status=201,
        answer=REGISTERED_INSTRUMENT,
    )
    register_catalog_expert = endpoint(
        "POST",
        EXPERTS,
        resources.register_expert,
        "登记专家（平台管理员）",
        form,
        body=EXPERT,
        status=201,
        answer=EXPERT_ANSWER,
    )
    catalog_experts = endpoint(
        "GET",
        EXPERTS,
        resources.experts,
        "某日可承担某服务事项的专家（5.2.2 c，无联系方式），最合适的在前",
        _expert_query,
        paged=True,
        query=(param("item", required=True), ON, *PAGE),
        answer=answers.page(EXPERT_ANSWER),
    )

    # -- fee quotes (5.3.1.5) ------------------------------------------------

    draft_demand_quote = endpoint(
        "POST",
        "/api/v1/demands/{demand_id}/quotes",
        quotes.draft,
        "为需求出具收费报价草稿（5.3.1.5）",
        form,
        body=QUOTE,
        status=201,
        answer=QUOTE_ANSWER,
    )
    get_quote = endpoint(
        "GET", QUOTE_ROUTE, quotes.view, "收费报价", answer=QUOTE_ANSWER
    )
    issue_quote = endpoint(
        "POST",
        QUOTE_ROUTE + "/issue",
        quotes.CHANGES["issue"],
        "出具报价",
        _args(),
        body=NOTHING,
        answer=QUOTE_ANSWER,
    )
    accept_quote = endpoint(
        "POST",
        QUOTE_ROUTE + "/acceptance",
        quotes.CHANGES["acceptance"],
        "记录客户接受报价（写明版本号）",
        _args("revision"),
        body=fields({"revision": whole("报价版本号")}, required=("revision",)),
        answer=QUOTE_ANSWER,
    )
    withdraw_quote = endpoint(
        "POST",
        QUOTE_ROUTE + "/withdrawal",
        quotes.CHANGES["withdrawal"],
        "撤回报价（写明原因）",
        _args("reason"),
        body=fields({"reason": text("原因", 500)}, required=("reason",)),
        answer=QUOTE_ANSWER,
    )
    revise_quote = endpoint(
        "POST",
        QUOTE_ROUTE + "/revision",
        quotes.CHANGES["revision"],
        "修改报价",
        _args("lines", "discount_percent", "green_channel"),
        body=REVISION,
        answer=QUOTE_ANSWER,
    )

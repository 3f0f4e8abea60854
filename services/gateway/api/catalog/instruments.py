"""Shared instruments over HTTP (6.7): the list and one instrument, open
slots, bookings and their outcome, no-shows and utilisation."""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.body import NOTHING, fields, listed, plain
from services.gateway.routing.declare import Call, endpoint, route
from services.gateway.routing.query import IDEMPOTENCY_KEY, PAGE, idempotency_key, param
from services.gateway.routing.query import plain as plain_query
from services.gateway.usecases import instruments

INSTRUMENTS = "/api/v1/catalog/instruments"
INSTRUMENT = INSTRUMENTS + "/{instrument_id}"
BOOKING = INSTRUMENT + "/bookings/{booking_id}"
MOMENT = plain("时间（ISO 8601，带时区）", 40)
SLOT = {
    "type": "array",
    "title": "时段 [开始, 结束]",
    "prefixItems": [MOMENT, MOMENT],
    "items": False,
    "minItems": 2,
}
REASON = fields({"reason": plain("原因", 500)})
ACTIONS = {
    "approval": ("批准预约（仪器所属机构）", NOTHING),
    "rejection": ("驳回预约（写明理由）", REASON),
    "cancellation": ("在开始前取消预约", REASON),
    "check-in": ("记录签到", NOTHING),
    "check-out": ("记录签退（超时即记违约）", NOTHING),
}


def _booking_action(name: str):
    summary, body = ACTIONS[name]
    return route(
        "POST",
        f"{BOOKING}/{name}",
        instruments.BOOKING_ACTIONS[name],
        summary,
        body=body,
        answer=BOOKING_ANSWER,
    )


def _act(gw, call: Call):
    return call.run(body=call.body)


# -- answers -----------------------------------------------------------------
BOOKING_ANSWER = answers.record(
    "仪器预约",
    ("instrument_id",),
    instrument_id=answers.STRING,
    state=answers.STRING,
    state_label=answers.STRING,
    requester=answers.STRING,
    start=answers.STRING,
    end=answers.STRING,
)
BOOKING_ROW = answers.record(
    "仪器的一次预约",
    ("id", "requester", "start", "end", "state"),
    id=answers.STRING,
    requester=answers.STRING,
    start=answers.STRING,
    end=answers.STRING,
    requested_at=answers.STRING,
    state=answers.STRING,
    state_label=answers.STRING,
    decided_by=answers.STRING,
    reason=answers.STRING,
    checked_in_at=answers.maybe(answers.STRING),
    checked_out_at=answers.maybe(answers.STRING),
    overrun_minutes=answers.INTEGER,
)
# a period as [start, end], ISO moments
PERIOD_PAIR = {**answers.listing(answers.STRING), "minItems": 2, "maxItems": 2}
INSTRUMENT_ANSWER = answers.record(
    "共享仪器（预约与占用时段）",
    ("id",),
    id=answers.STRING,
    name=answers.STRING,
    owner_id=answers.STRING,
    capabilities=answers.listing(answers.STRING),
    price_per_hour=answers.maybe(answers.STRING),  # 金额的文字；未定：null
    price_per_sample=answers.maybe(answers.STRING),
    slots=answers.listing(PERIOD_PAIR),  # 开放预约的时段
    bookings=answers.listing(BOOKING_ROW),  # 他机构只见到本机构的预约
    busy=answers.listing(PERIOD_PAIR),  # 已被占用的时段
    version=answers.INTEGER,
)
NO_SHOWS_ANSWER = answers.record(
    "记录的爽约",
    ("instrument_id", "no_shows"),
    instrument_id=answers.STRING,
    no_shows=answers.listing(answers.STRING),  # 记为爽约的预约编号
)
UTILISATION_ANSWER = answers.record(
    "仪器使用率",
    ("instrument_id", "start", "end", "utilisation"),
    instrument_id=answers.STRING,
    start=answers.STRING,
    end=answers.STRING,
    utilisation=answers.NUMBER,  # 使用小时数 / 开放小时数（0 到 1）
)


class InstrumentRoutes:
    @route(
        "GET",
        INSTRUMENTS,
        instruments.listed,
        "共享仪器及其开放时段（6.7）",
        query=(param("owner"), *PAGE),
        answer=answers.page(INSTRUMENT_ANSWER),
    )
    def catalog_instruments(self, call: Call):
        """Every shared instrument: ``?owner=`` narrows to one institution's."""
        return call.paged(call.run(owner=plain_query(call.arg("owner"), "owner")))

    catalog_instrument = endpoint(
        "GET",
        INSTRUMENT,
        instruments.view,
        "共享仪器、开放时段与预约",
        answer=INSTRUMENT_ANSWER,
    )

    @route(
        "POST",
        INSTRUMENT + "/slots",
        instruments.open_slots,
        "开放仪器的预约时段（仪器所属机构）",
        body=fields({"slots": listed("开放时段", SLOT, most=200)}, ("slots",)),
        answer=INSTRUMENT_ANSWER,
    )
    def open_instrument_slots(self, call: Call):
        return call.run(slots=call.body["slots"])

    @route(
        "POST",
        INSTRUMENT + "/bookings",
        instruments.book,
        "为本机构预约仪器",
        body=fields({"start": MOMENT, "end": MOMENT}, ("start", "end")),
        status=201,
        query=(IDEMPOTENCY_KEY,),
        answer=BOOKING_ANSWER,
    )
    def book_instrument(self, call: Call):
        """With an ``Idempotency-Key`` a repeated request answers the booking
        it made (as it stands now) and books nothing more."""
        return call.run(
            key=idempotency_key(call.request),
            start=call.body["start"],
            end=call.body["end"],
        )

    approve_booking = _booking_action("approval")(_act)
    reject_booking = _booking_action("rejection")(_act)
    cancel_booking = _booking_action("cancellation")(_act)
    check_in_booking = _booking_action("check-in")(_act)
    check_out_booking = _booking_action("check-out")(_act)

    record_instrument_no_shows = endpoint(
        "POST",
        INSTRUMENT + "/no-shows",
        instruments.record_no_shows,
        "记录爽约（仪器所属机构）",
        body=NOTHING,
        answer=NO_SHOWS_ANSWER,
    )

    @route(
        "GET",
        INSTRUMENT + "/utilisation",
        instruments.utilisation,
        "仪器利用率（开放时段内的使用时长占比）",
        query=(param("start", required=True), param("end", required=True)),
        answer=UTILISATION_ANSWER,
    )
    def instrument_utilisation(self, call: Call):
        """Hours in use over open hours between ``?start=`` and ``?end=``."""
        return call.run(start=call.arg("start"), end=call.arg("end"))

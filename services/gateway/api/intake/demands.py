"""Demands over HTTP (8.2, 7.4): registration, the institution's list, one
demand with its form and referrals, its history, staff commands, the
manager's stale demands and the customer's progress by code."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from services.gateway.api.intake.demand_schemas import (
    BODIES,
    DEMAND_ANSWER,
    DEMAND_ROW,
    DEMAND_VIEW,
    HISTORY_ROW,
    PROGRESS,
    REGISTERED,
    REGISTRATION,
    WORKING_HOURS,
)
from services.gateway.routing import answers
from services.gateway.routing.declare import (
    Call,
    commands,
    declare,
    endpoint,
    route,
)
from services.gateway.routing.query import IDEMPOTENCY_KEY, MOMENT, PAGE, param
from services.gateway.usecases import board, demands
from shared import calendar
from shared.errors import ValidationFailed

COMMANDS = {
    name: declare(
        "POST",
        f"/api/v1/demands/{{demand_id}}/{name}",
        demands.COMMANDS[name],
        summary,
        body=body,
        once=f"demand/{{demand_id}}/{name}",
        served_by="/api/v1/demands/{demand_id}/{command}",
        answer=DEMAND_ANSWER,
    )
    for name, (summary, body) in BODIES.items()
}


def _hours(value) -> float | None:
    """``working_hours`` as asked; absent: None, the institution's service
    policy's limit (7.4.2, ``demands.stale_hours``); not a number: 400."""
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise ValidationFailed.single("working_hours", "应为数字") from None


def _run_command(gw, call: Call):
    """A staff command on a demand; the acting staff member is the caller, at
    the window unless the body says another channel."""
    return call.run(body=call.body, channel=call.body.get("channel", "window"))


def _rows(title: str, **properties: dict) -> dict:
    return answers.listing(answers.record(title, (), **properties))


TEXT, MAYBE_TEXT = answers.STRING, answers.maybe(answers.STRING)
BOARD = answers.record(
    "时限与超期看板",
    (
        "stale",
        "referrals",
        "unopened",
        "in_house_overdue",
        "disabled_owners",
        "staff",
        "reviews",
    ),
    # 7.4.2: open demands whose owner did nothing for the working hours
    stale=_rows(
        "超时未处理的需求",
        demand_id=TEXT,
        owner=MAYBE_TEXT,
        status=TEXT,
        idle_working_hours=answers.NUMBER,
    ),
    # 8.3.4, 9.4: referrals past a deadline or escalated, either side
    referrals=_rows(
        "超期或已升级的转办",
        id=TEXT,
        state=TEXT,
        side=TEXT,
        overdue=MAYBE_TEXT,
    ),
    unopened=_rows(
        "未能开立的转办",
        demand_id=TEXT,
        items=answers.listing(TEXT),
        reason=TEXT,
        parked_at=TEXT,
        attempts=answers.INTEGER,
    ),
    in_house_overdue=_rows(
        "自主服务超期",
        demand_id=TEXT,
        owner=MAYBE_TEXT,
        due_at=MAYBE_TEXT,
        department=TEXT,
    ),
    disabled_owners=_rows(
        "停用账号名下的需求",
        demand_id=TEXT,
        owner=TEXT,
        owner_name=TEXT,
        status=TEXT,
        registered_at=TEXT,
    ),
    staff=_rows("本机构服务人员及其效能数据（9.2.2）", username=TEXT),
    # 9.1.3, 9.2.2: the half-year summary and the efficiency review
    reviews=_rows(
        "应完成的总结与评价",
        kind=TEXT,
        label=TEXT,
        period=TEXT,
        due_on=TEXT,
        done=answers.BOOLEAN,
        overdue=answers.BOOLEAN,
    ),
)


class DemandRoutes:
    @route(
        "POST",
        "/api/v1/demands",
        demands.register,
        "登记需求（附录B）：客户在线提交无需登录，窗口人员登录后登记",
        body=REGISTRATION,
        status=201,
        location="/api/v1/demands/{id}",
        query=(IDEMPOTENCY_KEY,),
        codes=(422,),  # the Idempotency-Key already used for another form
        answer=answers.one_of(REGISTERED, DEMAND_ANSWER),
    )
    def register_demand(self, call: Call):
        return call.run(
            form=call.body,
            idempotency_key=call.request.headers.get("Idempotency-Key"),
            client=self.client(call.request),
        )

    @route(
        "GET",
        "/api/v1/demands",
        demands.listed,
        "本机构的需求（监管人员：全部），分页",
        query=(*PAGE, param("status")),
        answer=answers.page(DEMAND_ROW),
    )
    def list_demands(self, call: Call):
        offset, limit = call.page()
        return call.run(status=call.arg("status"), offset=offset, limit=limit)

    get_demand = endpoint(
        "GET",
        "/api/v1/demands/{demand_id}",
        demands.view,
        "需求、登记表与转办情况",
        answer=DEMAND_VIEW,
    )

    demand_history = endpoint(
        "GET",
        "/api/v1/demands/{demand_id}/history",
        demands.history,
        "需求的全部事件（操作人、机构、渠道）",
        paged=True,
        query=PAGE,
        answer=answers.page(HISTORY_ROW),
    )

    demand_command = commands(
        "POST", "/api/v1/demands/{demand_id}/{command}", COMMANDS, _run_command
    )

    @route(
        "GET",
        "/api/v1/stale-demands",
        demands.stale,
        "首问负责人长时间未处理的需求（管理人员）",
        query=(WORKING_HOURS, param("now", schema=MOMENT)),
        answer=answers.items(
            answers.record(
                "长时间未处理的需求", ("demand_id",), demand_id=answers.STRING
            )
        ),
    )
    def stale_demands(self, call: Call):
        hours = _hours(call.arg("working_hours"))
        now = call.arg("now") or calendar.now().isoformat()
        return {"items": call.run(now=now, hours=hours)}

    @route(
        "GET",
        "/api/v1/board",
        board.board,
        "时限与超期看板（管理人员）：超时未处理、超期或已升级的转办、未能开立的转办、"
        "自主服务超期、停用账号名下的需求",
        query=(WORKING_HOURS, param("now", schema=MOMENT)),
        answer=BOARD,
    )
    def manager_board(self, call: Call):
        hours = _hours(call.arg("working_hours"))
        try:
            now = datetime.fromisoformat(call.arg("now")) if call.arg("now") else None
        except ValueError:
            now = None
            raise ValidationFailed.single("now", "应为带时区的时刻") from None
        if now is not None and now.tzinfo is None:
            raise ValidationFailed.single("now", "应为带时区的时刻")
        today = calendar.today()
        first = date(today.year, 1 if today.month <= 6 else 7, 1)
        since = datetime.combine(first, time(0), calendar.SHANGHAI)
        until = datetime.combine(today + timedelta(days=1), time(0), calendar.SHANGHAI)
        return call.run(
            now=now or calendar.now(),
            hours=hours,
            since=since.isoformat(),
            until=until.isoformat(),
        )

    progress = endpoint(
        "GET",
        "/api/v1/progress/{code}",
        demands.progress,
        "按进度查询码查询办理进度（7.4.6）",
        guard="progress",
        answer=PROGRESS,
    )

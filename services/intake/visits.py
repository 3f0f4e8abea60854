"""Proactive visits to service objects (T/JAS 12—2023 8.2.2).

An institution plans the visits of a period (2026, 2026-H1, 2026-Q1, 2026-03):
company, address, planned date, staff. A planned visit is rescheduled or
cancelled with a reason, or recorded once: when (not after ``today``), who was
met, what was found and the demands collected, each a registration form
(8.2.3, Appendix B) on channel "visit". Dates travel in events as ISO text;
"today" is passed in, never read. Plans live in intake's database: the
application functions take the ``IntakeApplication`` that stores both.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.intake.application import IntakeApplication
from services.intake.registration import RegistrationForm, demand_id_for
from shared import audit
from shared.application import AuditedAggregate
from shared.errors import NotFound, ValidationFailed
from shared.validation import Errors, require_day, require_text

PERIOD = re.compile(r"^(\d{4})(?:-(Q[1-4]|H[12]|0[1-9]|1[0-2]))?$")
STATUSES = {"planned": "待走访", "recorded": "已记录", "cancelled": "已取消"}
MAX_DEMANDS = 50
RECORD_FIELDS = ("visited_on", "met", "findings", "demands")


def plan_id(institution_id: str, period: str) -> UUID:
    """One plan per institution and period."""
    return uuid5(NAMESPACE_URL, f"qi-onestop:visit-plan:{institution_id}:{period}")


def demand_key(plan: UUID | str, visit_id: str, index: int) -> str:
    """The idempotency key of the ``index``-th demand collected on a visit."""
    return f"visit:{plan}:{visit_id}:{index}"


def period_bounds(period: object) -> tuple[date, date]:
    """First and last day of a year, half (H1), quarter (Q1) or month (03)."""
    match = PERIOD.match(period) if isinstance(period, str) else None
    if not match:
        msg = "计划期间应为年、半年、季度或月，如 2026、2026-H1、2026-Q1、2026-03"
        raise ValidationFailed.single("period", msg)
    year, part = int(match[1]), match[2] or "Y1"
    months = {"Y": 12, "H": 6, "Q": 3}.get(part[0], 1)
    first = 1 + months * (int(part[1:]) - 1) if months > 1 else int(part)
    after = date(year + (first + months > 12), (first + months - 1) % 12 + 1, 1)
    return date(year, first, 1), after - timedelta(days=1)


def parse_demands(demands) -> list[RegistrationForm]:
    """The demands collected, each a registration forced onto channel "visit".

    Every error of every form is named like ``demands[1].contact_phone``.
    """
    if not isinstance(demands, list) or len(demands) > MAX_DEMANDS:
        msg = f"收集的需求应为不超过{MAX_DEMANDS}份登记表的列表"
        raise ValidationFailed.single("demands", msg)
    errors = Errors()
    forms = []
    for i, form in enumerate(demands):
        if not isinstance(form, dict):
            errors.add(f"demands[{i}]", "需求登记表应为对象")
            continue
        with errors.collect(f"demands[{i}]."):
            forms.append(RegistrationForm.parse({**form, "channel": "visit"}))
    errors.raise_if_any()
    return forms


class VisitPlan(AuditedAggregate):
    """An institution's visits to service objects for one period (8.2.2)."""

    @staticmethod
    def create_id(institution_id: str, period: str) -> UUID:
        return plan_id(institution_id, period)

    @classmethod
    def draft(cls, institution_id, period) -> VisitPlan:
        errors = Errors()
        institution_id = errors.check(
            require_text, institution_id, "institution_id", "机构", 64
        )
        errors.check(period_bounds, period)
        errors.raise_if_any()
        return cls(institution_id, period)

    @event("PlanDrafted")
    def __init__(self, institution_id: str, period: str):
        self.institution_id = institution_id
        self.period = period
        self.starts, self.ends = period_bounds(period)
        self.visits: dict[str, dict] = {}  # by visit id: V001, V002, …

    def _in_period(self, errors: Errors, value) -> date | None:
        day = errors.check(require_day, value, "planned_on", "计划走访日期")
        if day is not None and not self.starts <= day <= self.ends:
            errors.add("planned_on", f"应在{self.starts}至{self.ends}之间")
        return day

    def _open_visit(self, visit_id, doing: str) -> dict:
        visit = self.visits.get(visit_id) if isinstance(visit_id, str) else None
        if visit is None:
            raise NotFound(f"visit {visit_id} of plan {self.id}")
        if visit["status"] != "planned":
            label = STATUSES[visit["status"]]
            raise ValidationFailed.single("visit_id", f"该走访{label}，不能再{doing}")
        return visit

    def plan_visit(self, company, address, planned_on, staff_id) -> str:
        """Add a visit within the period; returns its id."""
        errors = Errors()
        company = errors.check(require_text, company, "company", "走访企业", 100)
        address = errors.check(require_text, address, "address", "企业地址", 200)
        day = self._in_period(errors, planned_on)
        staff_id = errors.check(require_text, staff_id, "staff_id", "走访人员", 64)
        errors.raise_if_any()
        visit_id = f"V{len(self.visits) + 1:03d}"  # visits are never removed
        self._visit_planned(visit_id, company, address, day.isoformat(), staff_id)
        return visit_id

    @event("VisitPlanned")
    def _visit_planned(self, visit_id, company, address, planned_on, staff_id):
        self.visits[visit_id] = {
            "visit_id": visit_id,
            "company": company,
            "address": address,
            "planned_on": date.fromisoformat(planned_on),
            "staff_id": staff_id,
            "status": "planned",
            "changes": [],  # reschedules and the cancellation, with reasons
            "record": None,
        }

    def reschedule(self, visit_id, planned_on, reason) -> None:
        visit = self._open_visit(visit_id, "改期")
        errors = Errors()
        day = self._in_period(errors, planned_on)
        if day == visit["planned_on"]:
            errors.add("planned_on", "新日期与原计划日期相同")
        reason = errors.check(require_text, reason, "reason", "改期原因", 500)
        errors.raise_if_any()
        self._visit_rescheduled(visit_id, day.isoformat(), reason)

    @event("VisitRescheduled")
    def _visit_rescheduled(self, visit_id, planned_on, reason) -> None:
        visit = self.visits[visit_id]
        was = visit["planned_on"].isoformat()
        visit["changes"].append({"from": was, "to": planned_on, "reason": reason})
        visit["planned_on"] = date.fromisoformat(planned_on)

    def cancel(self, visit_id, reason) -> None:
        self._open_visit(visit_id, "取消")
        reason = require_text(reason, "reason", "取消原因", 500)
        self._visit_cancelled(visit_id, reason)

    @event("VisitCancelled")
    def _visit_cancelled(self, visit_id, reason) -> None:
        self.visits[visit_id]["status"] = "cancelled"
        self.visits[visit_id]["changes"].append({"cancelled": True, "reason": reason})

    def record(self, visit_id, form, today: date, staff_id) -> list:
        """Record a planned visit once from a visit record form (see
        :data:`RECORD_FIELDS`); returns the demand forms it collected.

        Their demand ids follow from :func:`demand_key`, so a retried recording
        names the same demands. Every bad field is named; nothing changes then.
        """
        self._open_visit(visit_id, "记录")
        if not isinstance(form, dict):
            raise ValidationFailed.single("body", "走访记录应为 JSON 对象")
        errors = Errors()
        for unknown in sorted(set(form) - set(RECORD_FIELDS), key=str):
            errors.add(unknown, "不认识的字段")
        day = errors.check(
            require_day, form.get("visited_on"), "visited_on", "走访日期"
        )
        if day is not None and day > today:
            errors.add("visited_on", f"走访日期不能晚于今天（{today}）")
        met = form.get("met") if isinstance(form.get("met"), dict) else {}
        name = errors.check(require_text, met.get("name"), "met.name", "接待人姓名", 50)
        position = errors.check(
            require_text, met.get("position"), "met.position", "接待人职务", 50
        )
        findings = errors.check(
            require_text, form.get("findings"), "findings", "走访情况", 2000
        )
        staff_id = errors.check(require_text, staff_id, "staff_id", "记录人", 64)
        forms = errors.check(parse_demands, form.get("demands", [])) or []
        errors.raise_if_any()
        keys = (demand_key(self.id, visit_id, i) for i in range(len(forms)))
        self._visit_recorded(
            visit_id=visit_id,
            visited_on=day.isoformat(),
            met={"name": name, "position": position},
            findings=findings,
            demands=[f.as_event_fields() for f in forms],
            demand_ids=[str(demand_id_for(key)) for key in keys],
            recorded_by=staff_id,
        )
        return forms

    @event("VisitRecorded")
    def _visit_recorded(
        self, visit_id, visited_on, met, findings, demands, demand_ids, recorded_by
    ) -> None:
        self.visits[visit_id]["status"] = "recorded"
        self.visits[visit_id]["record"] = {
            "visited_on": visited_on,  # ISO text: history, never compared
            "met": dict(met),
            "findings": findings,
            "demands": [dict(f) for f in demands],
            "demand_ids": list(demand_ids),
            "recorded_by": recorded_by,
        }

    def completion_rate(self) -> float | None:
        """Recorded / planned, cancelled visits left out; None if none count."""
        counted = [v for v in self.visits.values() if v["status"] != "cancelled"]
        if not counted:
            return None
        return sum(v["status"] == "recorded" for v in counted) / len(counted)

    def overdue(self, today: date) -> list[dict]:
        """Visits still planned for a day before ``today``, earliest first."""
        late = [v for v in self.visits.values() if v["status"] == "planned"]
        late = [v for v in late if v["planned_on"] < today]
        return sorted(late, key=lambda v: (v["planned_on"], v["visit_id"]))


# -- application functions: plans are stored in intake's database ------------


def visit_summary(visit: dict) -> dict:
    """A visit as JSON; its record names the demands by id (forms stay stored)."""
    record = visit["record"]
    record = record and {k: v for k, v in record.items() if k != "demands"}
    return {**visit, "planned_on": visit["planned_on"].isoformat(), "record": record}


def plan_summary(plan: VisitPlan, today: date | None = None) -> dict:
    """The plan; with ``today``, also the ids of its overdue visits."""
    summary = {
        "id": str(plan.id),
        "institution_id": plan.institution_id,
        "period": plan.period,
        "visits": [visit_summary(v) for v in plan.visits.values()],
        "completion_rate": plan.completion_rate(),
        "version": plan.version,
    }
    if today is not None:
        summary["overdue"] = [v["visit_id"] for v in plan.overdue(today)]
    return summary


def get_plan(app: IntakeApplication, plan: str | UUID) -> VisitPlan:
    return app.get_existing(plan, VisitPlan, "visit plan")


def draft_plan(app: IntakeApplication, institution_id, period) -> dict:
    plan = VisitPlan.draft(institution_id, period)
    if not app.save_if_new(plan):
        msg = f"{plan.institution_id} 的 {plan.period} 走访计划已存在"
        raise ValidationFailed.single("period", msg)
    return plan_summary(plan)


def change_plan(app: IntakeApplication, plan: str | UUID, command) -> dict:
    """Load, apply ``command(plan)``, save — retried on fresh state on a conflict.

    E.g. ``change_plan(app, pid, lambda p: p.cancel("V002", "企业停产"))``;
    ``result`` is what the command returned (a new visit's id).
    """

    def attempt():
        loaded = get_plan(app, plan)
        result = command(loaded)
        app.save(loaded)
        return result, loaded

    result, loaded = app.retry_on_conflict(attempt)
    return {**plan_summary(loaded), "result": result}


def plan_report(app: IntakeApplication, plan: str | UUID, today: date) -> dict:
    """The plan with its completion rate and the visits overdue on ``today``."""
    return plan_summary(get_plan(app, plan), today)


def plan_for(app: IntakeApplication, institution_id, period, today: date) -> dict:
    """An institution's plan for a period, as :func:`plan_report` reads it."""
    period_bounds(period)
    if not isinstance(institution_id, str) or not institution_id:
        raise NotFound(f"visit plan of {institution_id!r} for {period}")
    return plan_report(app, plan_id(institution_id, period), today)


UNKNOWN_ITEM = "服务目录中没有服务事项 {}，请核对编码"


def record_visit(
    app: IntakeApplication,
    plan_id,
    visit_id,
    form,
    *,
    staff_id,
    today,
    known_item=None,
):
    """Record a visit and register each demand it collected (8.2.2, 8.2.3).

    ``form``: ``visited_on``, ``met`` (``name``, ``position``), ``findings`` and
    ``demands``, a list of registration forms (their channel is "visit").
    Nothing is stored unless every rule holds. The demands are registered by
    ``staff_id`` on channel "visit" under idempotency keys
    ``visit:{plan_id}:{visit_id}:{index}``, then the record is saved with their
    ids: a retry after a failure in between registers nothing twice, and a
    visit already recorded is refused before anything is registered.
    ``known_item(code)``: whether the catalog has the item (every demand's).
    """

    def attempt():
        plan = get_plan(app, plan_id)
        forms = plan.record(visit_id, form, today, staff_id)
        if known_item is not None:
            unknown = [
                {
                    "field": f"demands[{i}].needs[{j}].item_code",
                    "message": UNKNOWN_ITEM.format(need["item_code"]),
                }
                for i, demand in enumerate(forms)
                for j, need in enumerate(demand.needs)
                if not known_item(need["item_code"])
            ]
            if unknown:
                raise ValidationFailed(unknown)
        actor = audit.current().actor  # a manager who recorded it stays one
        if (actor.id, actor.institution) != (staff_id.strip(), plan.institution_id):
            actor = audit.Actor(staff_id.strip(), "staff", plan.institution_id)
        context = replace(audit.current(), actor=actor, channel="visit")
        if not context.correlation_id:  # the visit and its demands, together
            context = context.with_correlation(str(plan.id))
        with audit.audit_scope(context):
            for index, demand in enumerate(forms):
                key = demand_key(plan.id, visit_id, index)
                app.register_demand(demand.as_event_fields(), idempotency_key=key)
            app.save(plan)
        return plan

    plan = app.retry_on_conflict(attempt)
    return {**plan_summary(plan, today), "result": visit_summary(plan.visits[visit_id])}

"""Proactive visits stored in intake's database, on SQLite and on PostgreSQL:
a recorded visit registers its demands once, on channel "visit"."""

from datetime import date
from uuid import UUID

import pytest

from services.intake.application import IntakeApplication
from services.intake.visits import (
    VisitPlan,
    change_plan,
    draft_plan,
    get_plan,
    plan_report,
    record_visit,
)
from shared.audit import Actor, AuditContext, audit_scope
from shared.errors import ValidationFailed

TODAY = date(2026, 2, 10)
DEMAND = {
    "applicant": "扬州某阀门有限公司",
    "contact_phone": "13905141234",
    "service_item_code": "6.3.1",
    "description": "阀门密封性能检测",
}
RECORD = {
    "visited_on": "2026-02-09",
    "met": {"name": "王建国", "position": "质量部经理"},
    "findings": "新产品出口欧盟，需要检测和认证咨询",
    "demands": [DEMAND, {**DEMAND, "service_item_code": "6.4", "channel": "phone"}],
}
PLANNER = AuditContext(actor=Actor("chief-1", "staff", "jsqi-yz"), channel="internal")


@pytest.fixture
def app(databases):
    app = IntakeApplication()
    yield app
    app.close()


@pytest.fixture
def plan(app):
    with audit_scope(PLANNER):
        plan = draft_plan(app, "jsqi-yz", "2026-Q1")
        for company, day in [
            ("扬州某阀门有限公司", "2026-02-09"),
            ("扬州某玩具有限公司", "2026-01-20"),
            ("扬州某电缆有限公司", "2026-03-05"),
            ("扬州某食品有限公司", "2026-01-12"),
        ]:
            change_plan(
                app,
                plan["id"],
                lambda p, c=company, d=day: p.plan_visit(c, "扬州市", d, "staff-b"),
            )
    return plan["id"]


def demand_ids(app, plan_id) -> list[UUID]:
    return [i for i in app.originator_ids() if i != UUID(plan_id)]


def record(app, plan_id, visit_id="V001", form=RECORD):
    return record_visit(app, plan_id, visit_id, form, staff_id="staff-b", today=TODAY)


def test_a_recorded_visit_registers_its_demands_on_channel_visit(app, plan):
    visit = record(app, plan)["result"]
    ids = visit["record"]["demand_ids"]
    assert sorted(ids) == sorted(str(i) for i in demand_ids(app, plan))
    assert len(ids) == 2
    for demand_id in ids:
        assert app.get_demand(demand_id)["channel"] == "visit"
        (registered,) = app.history(demand_id)
        assert registered["event"] == "Registered"
        assert registered["channel"] == "visit"
        assert registered["actor"] == {
            "id": "staff-b",
            "role": "staff",
            "institution": "jsqi-yz",
        }
        assert registered["correlation_id"] == plan  # with the visit that found it
    events = [
        app.mapper.to_domain_event(s) for s in app.recorder.select_events(UUID(plan))
    ]
    assert type(events[-1]).__name__ == "VisitRecorded"
    assert events[-1].audit["channel"] == "visit"
    assert events[-1].audit["actor"]["id"] == "staff-b"
    assert events[0].audit["actor"]["id"] == "chief-1"
    assert app.verify_stream(UUID(plan)) is None


def test_a_manager_who_records_a_visit_is_audited_as_the_manager(app, plan):
    manager = AuditContext(actor=Actor("chief-1", "manager", "jsqi-yz"), channel="web")
    with audit_scope(manager):
        visit = record_visit(
            app, plan, "V001", RECORD, staff_id="chief-1", today=TODAY
        )["result"]
    for demand_id in visit["record"]["demand_ids"]:
        (registered,) = app.history(demand_id)
        assert registered["actor"]["role"] == "manager", registered
        assert registered["channel"] == "visit"


def test_recording_again_is_refused_and_registers_nothing_new(app, plan):
    record(app, plan)
    before = demand_ids(app, plan)
    different = {**RECORD, "demands": [{**DEMAND, "description": "另一项需求"}]}
    for form in (RECORD, different):
        with pytest.raises(ValidationFailed) as caught:
            record(app, plan, form=form)
        assert caught.value.errors[0]["field"] == "visit_id"
    assert demand_ids(app, plan) == before


def test_a_retry_after_a_failure_between_registration_and_record_registers_once(
    app, plan, monkeypatch
):
    save = app.save
    failures = []

    def save_failing_once(*aggregates, **kwargs):
        if isinstance(aggregates[0], VisitPlan) and not failures:
            failures.append(aggregates[0].id)
            raise ConnectionError("database went away")
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(app, "save", save_failing_once)
    with pytest.raises(ConnectionError):
        record(app, plan)
    registered = demand_ids(app, plan)
    assert len(registered) == 2
    assert get_plan(app, plan).visits["V001"]["status"] == "planned"

    visit = record(app, plan)["result"]
    assert demand_ids(app, plan) == registered
    assert sorted(visit["record"]["demand_ids"]) == sorted(map(str, registered))


def test_a_bad_demand_form_stores_nothing(app, plan):
    version = get_plan(app, plan).version
    bad = {**RECORD, "demands": [DEMAND, {**DEMAND, "contact_phone": "12345"}]}
    with pytest.raises(ValidationFailed) as caught:
        record(app, plan, form=bad)
    assert [e["field"] for e in caught.value.errors] == ["demands[1].contact_phone"]
    assert demand_ids(app, plan) == []
    assert get_plan(app, plan).version == version


def test_completion_rate_and_overdue_visits(app, plan):
    record(app, plan)
    change_plan(app, plan, lambda p: p.cancel("V004", "企业已停产"))
    change_plan(app, plan, lambda p: p.reschedule("V003", "2026-03-20", "企业要求"))
    report = plan_report(app, plan, TODAY)
    assert report["completion_rate"] == pytest.approx(1 / 3)
    assert report["overdue"] == ["V002"]
    visits = {v["visit_id"]: v for v in report["visits"]}
    assert visits["V003"]["planned_on"] == "2026-03-20"
    assert visits["V004"]["status"] == "cancelled"
    assert visits["V001"]["record"]["met"]["position"] == "质量部经理"
    assert plan_report(app, plan, date(2026, 3, 31))["overdue"] == ["V002", "V003"]


def test_a_plan_is_drafted_once_per_institution_and_period(app, plan):
    with pytest.raises(ValidationFailed) as caught:
        draft_plan(app, "jsqi-yz", "2026-Q1")
    assert caught.value.errors[0]["field"] == "period"
    assert draft_plan(app, "jsqi-yz", "2026-Q2")["id"] != plan


def test_a_plan_reads_back_the_same_in_a_new_process(app, plan, databases):
    record(app, plan)
    fresh = IntakeApplication()
    try:
        assert plan_report(fresh, plan, TODAY) == plan_report(app, plan, TODAY)
        assert get_plan(fresh, plan).visits["V002"]["planned_on"] == date(2026, 1, 20)
    finally:
        fresh.close()

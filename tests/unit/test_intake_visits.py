"""Proactive visits (8.2.2): plan, reschedule, cancel, record once, report."""

from datetime import date

import pytest

from services.intake.registration import demand_id_for
from services.intake.visits import VisitPlan, demand_key, period_bounds, plan_id
from shared.errors import NotFound, ValidationFailed

TODAY = date(2026, 2, 10)
DEMAND = {
    "applicant": "扬州某阀门有限公司",
    "contact_phone": "0514-87651234",
    "service_item_code": "6.3.1",
    "description": "阀门密封性能检测",
}
RECORD = {
    "visited_on": "2026-02-09",
    "met": {"name": "王建国", "position": "质量部经理"},
    "findings": "新产品出口欧盟，需要检测和认证咨询",
    "demands": [DEMAND, {**DEMAND, "service_item_code": "6.4"}],
}


def fields_of(caught) -> set[str]:
    return {e["field"] for e in caught.value.errors}


def plan_with_visits(*days: str) -> VisitPlan:
    plan = VisitPlan.draft("jsqi-yz", "2026-Q1")
    for i, day in enumerate(days):
        plan.plan_visit(f"企业{i}", "扬州市邗江区文昌西路1号", day, "staff-a")
    plan.collect_events()
    return plan


@pytest.mark.parametrize(
    "period, starts, ends",
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ],
)
def test_a_period_is_a_year_half_quarter_or_month(period, starts, ends):
    assert period_bounds(period) == (starts, ends)


def test_drafting_names_every_bad_field():
    with pytest.raises(ValidationFailed) as caught:
        VisitPlan.draft(" ", "2026Q1")
    assert fields_of(caught) == {"institution_id", "period"}


def test_one_plan_per_institution_and_period():
    plan = VisitPlan.draft("jsqi-yz", "2026-Q1")
    assert plan.id == plan_id("jsqi-yz", "2026-Q1")
    assert plan.id != plan_id("jsqi-yz", "2026-Q2")


def test_visits_are_planned_within_the_period_with_sequential_ids():
    plan = plan_with_visits("2026-01-15")
    assert plan.plan_visit("泰州某公司", "泰州市海陵区", "2026-03-31", "s") == "V002"
    assert plan.visits["V002"]["planned_on"] == date(2026, 3, 31)
    with pytest.raises(ValidationFailed) as caught:
        plan.plan_visit("", "泰州市海陵区", "2026-04-01", "")
    assert fields_of(caught) == {"company", "planned_on", "staff_id"}
    assert len(plan.pending_events) == 1  # only the accepted V002


def test_a_visit_is_rescheduled_with_a_reason_and_the_change_kept():
    plan = plan_with_visits("2026-01-15")
    with pytest.raises(ValidationFailed) as caught:
        plan.reschedule("V001", "2026-01-15", "")
    assert fields_of(caught) == {"planned_on", "reason"}
    assert plan.pending_events == []
    plan.reschedule("V001", "2026-02-20", "企业负责人出差")
    visit = plan.visits["V001"]
    assert visit["planned_on"] == date(2026, 2, 20)
    assert visit["changes"] == [
        {"from": "2026-01-15", "to": "2026-02-20", "reason": "企业负责人出差"}
    ]


def test_a_cancelled_visit_needs_a_reason_and_cannot_be_recorded():
    plan = plan_with_visits("2026-01-15")
    with pytest.raises(ValidationFailed) as caught:
        plan.cancel("V001", " ")
    assert fields_of(caught) == {"reason"}
    plan.cancel("V001", "企业已停产")
    assert plan.visits["V001"]["status"] == "cancelled"
    with pytest.raises(ValidationFailed) as caught:
        plan.record("V001", RECORD, TODAY, "staff-a")
    assert fields_of(caught) == {"visit_id"}
    assert "已取消" in caught.value.errors[0]["message"]


def test_an_unknown_visit_is_not_found():
    with pytest.raises(NotFound):
        plan_with_visits("2026-01-15").cancel("V009", "重复")


def test_recording_keeps_who_was_met_and_the_demands_on_channel_visit():
    plan = plan_with_visits("2026-02-09")
    forms = plan.record("V001", RECORD, TODAY, "staff-b")
    assert [f.channel for f in forms] == ["visit", "visit"]
    record = plan.visits["V001"]["record"]
    assert record["met"] == {"name": "王建国", "position": "质量部经理"}
    assert record["recorded_by"] == "staff-b"
    assert [d["needs"][0]["item_code"] for d in record["demands"]] == ["6.3.1", "6.4"]
    # the same keys a retry uses: the same demands
    keys = [demand_key(plan.id, "V001", i) for i in range(2)]
    assert record["demand_ids"] == [str(demand_id_for(k)) for k in keys]
    assert keys[1] == f"visit:{plan.id}:V001:1"
    (recorded,) = plan.collect_events()
    assert type(recorded).__name__ == "VisitRecorded"


def test_a_demand_brought_in_on_another_channel_is_forced_onto_visit():
    plan = plan_with_visits("2026-02-09")
    only = {**RECORD, "demands": [{**DEMAND, "channel": "window"}]}
    (form,) = plan.record("V001", only, TODAY, "staff-a")
    assert form.channel == "visit"


def test_a_visit_with_no_demands_is_still_recorded():
    plan = plan_with_visits("2026-02-09")
    assert plan.record("V001", {**RECORD, "demands": []}, TODAY, "s") == []
    assert plan.visits["V001"]["record"]["demand_ids"] == []


def test_a_visit_is_recorded_once():
    plan = plan_with_visits("2026-02-09")
    plan.record("V001", RECORD, TODAY, "staff-a")
    plan.collect_events()
    with pytest.raises(ValidationFailed) as caught:
        plan.record("V001", RECORD, TODAY, "staff-a")
    assert fields_of(caught) == {"visit_id"}
    assert "已记录" in caught.value.errors[0]["message"]
    assert plan.pending_events == []


def test_every_error_of_every_form_is_named_and_nothing_is_recorded():
    plan = plan_with_visits("2026-02-09")
    bad = {
        "visited_on": "2026-02-11",  # tomorrow
        "met": {"name": "王建国"},
        "findings": "",
        "demands": [
            {**DEMAND, "applicant": ""},
            DEMAND,
            {**DEMAND, "contact_phone": "12345", "service_item_code": "7.1"},
            "口头需求",
        ],
        "photos": [],
    }
    with pytest.raises(ValidationFailed) as caught:
        plan.record("V001", bad, TODAY, "staff-a")
    assert fields_of(caught) == {
        "photos",
        "visited_on",
        "met.position",
        "findings",
        "demands[0].applicant",
        "demands[2].contact_phone",
        "demands[2].service_item_code",
        "demands[3]",
    }
    assert plan.pending_events == []
    assert plan.visits["V001"]["status"] == "planned"


def test_a_visit_recorded_today_is_not_in_the_future():
    plan = plan_with_visits("2026-02-09")
    plan.record("V001", {**RECORD, "visited_on": TODAY}, TODAY, "staff-a")
    assert plan.visits["V001"]["record"]["visited_on"] == "2026-02-10"


def test_a_record_that_is_not_an_object_or_has_no_date_is_refused():
    plan = plan_with_visits("2026-02-09")
    with pytest.raises(ValidationFailed) as caught:
        plan.record("V001", ["2026-02-09"], TODAY, "staff-a")
    assert fields_of(caught) == {"body"}
    with pytest.raises(ValidationFailed) as caught:
        plan.record("V001", {"met": "王建国", "demands": {}}, TODAY, " ")
    assert fields_of(caught) == {
        "visited_on",
        "met.name",
        "met.position",
        "findings",
        "staff_id",
        "demands",
    }
    assert plan.pending_events == []


def test_completion_rate_leaves_cancelled_visits_out():
    plan = plan_with_visits("2026-01-10", "2026-01-20", "2026-02-01", "2026-03-01")
    assert plan.completion_rate() == 0
    plan.record("V001", RECORD, TODAY, "staff-a")
    plan.cancel("V002", "企业已搬迁")
    assert plan.completion_rate() == pytest.approx(1 / 3)


def test_a_plan_without_countable_visits_has_no_completion_rate():
    plan = plan_with_visits("2026-01-10")
    plan.cancel("V001", "企业已搬迁")
    assert plan.completion_rate() is None


def test_overdue_visits_are_planned_before_today_neither_recorded_nor_cancelled():
    plan = plan_with_visits(
        "2026-02-01", "2026-01-20", "2026-02-10", "2026-01-05", "2026-01-06"
    )
    plan.record("V004", RECORD, TODAY, "staff-a")
    plan.cancel("V005", "企业已搬迁")
    # due today (V003) is not overdue yet; earliest first
    assert [v["visit_id"] for v in plan.overdue(TODAY)] == ["V002", "V001"]
    plan.reschedule("V002", "2026-03-02", "企业要求改期")
    assert [v["visit_id"] for v in plan.overdue(TODAY)] == ["V001"]

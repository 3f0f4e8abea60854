"""The demand's rules of issue 20 in the domain: computed decision fields,
corrections, withdrawn hand-overs, reassignment, resolution with open
referrals, in-house reminders and escalation once each."""

from datetime import UTC, datetime, timedelta

import pytest

from services.intake.domain import Demand
from services.intake.registration import RegistrationForm
from shared import calendar
from shared.errors import ConflictError, ValidationFailed

RAW = {
    "applicant": "泰州某电器有限公司",
    "contact_phone": "13800001111",
    "service_item_code": "6.3.1",
    "description": "家用电器安全检测",
    "channel": "window",
}
FORM = RegistrationForm.parse(RAW)
PASSED = dict.fromkeys(("capability", "method", "cycle", "fee"), True)


def owned() -> Demand:
    demand = Demand.register(FORM)
    demand.take("staff-a")
    demand.review_contract("staff-a", PASSED)
    return demand


def test_details_cannot_set_what_the_decision_computes():
    demand = owned()
    for forged in ("outcome", "staff_id", "green_channel", "due_at"):
        with pytest.raises(ValidationFailed) as caught:
            demand.decide("staff-a", "in_house", {"department": "检测部", forged: "x"})
        assert caught.value.errors[0]["field"] == f"details.{forged}"
    demand.decide("staff-a", "in_house", {"department": "检测部"}, "2026-12-10")
    assert demand.triage["outcome"] == "in_house"
    assert demand.triage["staff_id"] == "staff-a"


def test_a_correction_keeps_the_old_values_in_its_event():
    demand = owned()
    corrected = RegistrationForm.parse({**RAW, "applicant": "泰州某电器股份有限公司"})
    with pytest.raises(ValidationFailed):
        demand.correct("staff-b", corrected, " ")  # a reason is required
    with pytest.raises(ValidationFailed):
        demand.correct("staff-b", FORM, "无改动")
    demand.correct("staff-b", corrected, "营业执照更名")
    [event] = [e for e in demand.collect_events() if type(e).__name__ == "Corrected"]
    assert event.before == {"applicant": "泰州某电器有限公司"}
    assert event.after == {"applicant": "泰州某电器股份有限公司"}
    assert event.staff_id == "staff-b" and event.reason == "营业执照更名"
    assert demand.applicant == "泰州某电器股份有限公司"


def test_only_the_offerer_withdraws_and_a_manager_reassigns_with_a_reason():
    demand = owned()
    demand.offer_handover("staff-a", "staff-x", "外出")
    with pytest.raises(ValidationFailed):
        demand.withdraw_handover("staff-x", "不是我提出的")
    demand.withdraw_handover("staff-a", "填错接收人")
    assert demand.handover is None and demand.owner == "staff-a"
    with pytest.raises(ValidationFailed):
        demand.reassign("mgr", "staff-b", "")
    demand.reassign("mgr", "staff-b", "原负责人休长假")
    assert demand.owner == "staff-b"
    assert demand.reassignments[-1] == {
        "by": "mgr",
        "from": "staff-a",
        "to": "staff-b",
        "reason": "原负责人休长假",
    }


def test_open_referrals_keep_a_demand_from_being_resolved():
    demand = owned()
    demand.decide("staff-a", "referred", {})
    open_one = {"id": "r-1", "item_code": "6.3.1", "state": "sent"}
    with pytest.raises(ConflictError) as caught:
        demand.resolve("staff-a", "完成", [open_one])
    assert "r-1" in str(caught.value) and "6.3.1" in str(caught.value)
    assert demand.status == "referred"
    demand.resolve("staff-a", "完成", [])
    assert demand.status == "resolved"


def test_an_answer_at_once_is_refused_while_a_referral_is_open():
    demand = owned()
    open_one = {"id": "r-2", "item_code": "6.3.1", "state": "matched"}
    answer = {"answer": "已电话答复"}
    with pytest.raises(ConflictError) as caught:
        demand.decide("staff-a", "answered", answer, open_referrals=[open_one])
    assert "r-2" in str(caught.value)
    assert demand.status == "registered"
    demand.decide("staff-a", "answered", answer, open_referrals=[])
    assert demand.status == "resolved"


def test_every_item_ever_referred_is_kept_and_an_unopened_one_named():
    demand = owned()
    demand.decide("staff-a", "referred", {})
    assert demand.referred_items == ["6.3.1"]
    unopened = {"id": "", "item_code": "6.3.1", "state": "unopened"}
    unopened["state_label"] = "转办尚未开立"
    with pytest.raises(ConflictError) as caught:
        demand.resolve("staff-a", "完成", [unopened])
    assert "6.3.1（转办尚未开立）" in str(caught.value)
    demand.resolve("staff-a", "完成", [])
    demand.reopen("staff-a", "客户要求复核")
    demand.review_contract("staff-a", PASSED)
    demand.decide("staff-a", "in_house", {"department": "检测部"})
    assert demand.referred_items == ["6.3.1"]  # still the demand's referral
    # rebuilt from its events, the demand knows them too
    events = demand.collect_events()
    rebuilt = None
    for stored in events:
        rebuilt = stored.mutate(rebuilt)
    assert rebuilt.referred_items == ["6.3.1"]


def test_in_house_reminders_name_the_institution_and_items():
    demand = Demand.register(FORM, institution="jsqi")
    demand.take("staff-a")
    demand.review_contract("staff-a", PASSED)
    due = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
    demand.decide("staff-a", "in_house", {"department": "检测部"}, due.isoformat())
    assert demand.remind_in_house(due - timedelta(hours=1), timedelta(hours=4))
    assert demand.escalate_in_house(due + timedelta(hours=1))
    reminded, escalated = demand.collect_events()[-2:]
    for event in (reminded, escalated):
        assert (event.owner, event.institution, event.items, event.due) == (
            "staff-a",
            "jsqi",
            ["6.3.1"],
            due.isoformat(),
        )
    assert type(reminded).__name__ == "InHouseReminded"
    assert type(escalated).__name__ == "InHouseEscalated"


def test_an_in_house_reminder_stored_before_v2_reads_without_institution():
    state = {"owner": "staff-a", "due": "2026-12-08T09:30:00+00:00"}
    Demand.InHouseReminded.upcast_v1_v2(state)
    Demand.InHouseEscalated.upcast_v1_v2(state)
    assert state["institution"] == "" and state["items"] == []


def test_in_house_service_is_reminded_and_escalated_once_each():
    demand = owned()
    due = calendar.calendar_from_env().deadline(datetime(2026, 12, 1, tzinfo=UTC), 5)
    demand.decide("staff-a", "in_house", {"department": "检测部"}, due.isoformat())
    lead = timedelta(hours=4)
    assert not demand.remind_in_house(due - timedelta(days=1), lead)
    assert demand.remind_in_house(due - timedelta(hours=1), lead)
    assert not demand.remind_in_house(due - timedelta(minutes=1), lead)
    assert not demand.escalate_in_house(due)
    assert demand.escalate_in_house(due + timedelta(seconds=1))
    assert not demand.escalate_in_house(due + timedelta(days=3))


def test_today_is_beijing_s_whatever_the_servers_zone(monkeypatch):
    one_am = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # 01:00 on the 4th
    monkeypatch.setattr(calendar, "CLOCK", lambda: one_am)
    assert calendar.today().isoformat() == "2026-12-04"
    assert calendar.now().utcoffset() == timedelta(hours=8)

"""Evaluation rules without infrastructure: survey windows on the working-day
calendar, who may rate and when, follow-ups and improvement items."""

from datetime import datetime, timedelta

import pytest

from services.evaluation.domain import CallBack, ImprovementItem, Survey
from services.evaluation.records import EfficiencyAssessment, HalfYearSummary
from services.evaluation.rules import DIMENSIONS, SURVEY_REMINDER_LEAD, rating_form
from shared.calendar import SHANGHAI, WorkingCalendar
from shared.errors import ValidationFailed

DEMAND = "0f8e2a4c-2c1b-4a51-9d1e-6a3b5c7d9e01"
CAL = WorkingCalendar()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def survey(ended: datetime) -> Survey:
    facts = {
        "demand_id": DEMAND,
        "institution_id": "jsqi",
        "staff_id": "staff-a",
        "ended_at": ended.isoformat(),
    }
    return Survey.issue("demand", f"{DEMAND}:9", facts, CAL)


def form(overall="满意", **changes) -> dict:
    return {
        "overall": overall,
        "dimensions": {key: "满意" for key in DIMENSIONS},
        "comments": "窗口人员很耐心",
        **changes,
    }


# -- due dates: 5 working days after the service ended (9.2.1) ---------------


def test_a_plain_week_is_due_at_close_of_office_five_working_days_later():
    assert survey(at(2026, 11, 2, 10, 0)).due == at(2026, 11, 9, 17, 30)


def test_the_national_day_holiday_does_not_count():
    # Wed 30 Sep; 1–7 Oct are holidays, Sat 10 Oct is an adjusted working day
    assert survey(at(2026, 9, 30, 16, 0)).due == at(2026, 10, 13, 17, 30)


def test_an_adjusted_working_sunday_counts():
    # Fri 18 Sep; Sun 20 Sep is worked for National Day, Fri 25 Sep is 中秋
    assert survey(at(2026, 9, 18, 9, 0)).due == at(2026, 9, 24, 17, 30)


def test_a_service_ending_late_december_2026_is_due_in_2027_by_the_fallback_rule():
    # 29, 30, 31 Dec; 1 Jan 2027 is 元旦 by the documented rule; then 4, 5 Jan
    assert survey(at(2026, 12, 28, 15, 0)).due == at(2027, 1, 5, 17, 30)


def test_the_end_is_read_in_beijing_time():
    # 17:00 UTC on Fri 9 Oct is 01:00 on Sat 10 Oct (worked) in Beijing:
    # counting starts after the 10th, not after the 9th (which gives the 15th)
    late = datetime.fromisoformat("2026-10-09T17:00:00+00:00")
    assert survey(late).due == at(2026, 10, 16, 17, 30)


# -- who may rate, once, within the window ----------------------------------


def test_the_applicant_rates_once_within_the_window():
    s = survey(at(2026, 11, 2, 10, 0))
    checked = s.rate(DEMAND, form(), at(2026, 11, 5, 9, 0))
    assert checked["overall"] == "满意" and s.status == "rated"
    assert not s.unsatisfied
    with pytest.raises(ValidationFailed) as caught:
        s.rate(DEMAND, form(), at(2026, 11, 5, 10, 0))
    assert caught.value.errors[0]["field"] == "status"
    assert "重复" in caught.value.errors[0]["message"]


def test_a_rating_with_another_demands_code_is_refused_and_stores_nothing():
    s = survey(at(2026, 11, 2, 10, 0))
    with pytest.raises(ValidationFailed) as caught:
        s.rate("some-other-demand", form(), at(2026, 11, 3, 9, 0))
    assert caught.value.errors[0]["field"] == "code"
    assert s.status == "issued" and not s.pending_events[1:]


def test_a_rating_after_the_due_moment_is_refused_even_before_the_sweep():
    s = survey(at(2026, 11, 2, 10, 0))
    with pytest.raises(ValidationFailed) as caught:
        s.rate(DEMAND, form(), at(2026, 11, 9, 17, 31))
    assert caught.value.errors[0]["field"] == "status"
    assert "期限" in caught.value.errors[0]["message"]
    # the last minute of the window still counts
    s.rate(DEMAND, form(), at(2026, 11, 9, 17, 30))
    assert s.status == "rated"


def test_an_expired_survey_cannot_be_rated():
    s = survey(at(2026, 11, 2, 10, 0))
    assert s.expire(at(2026, 11, 10, 8, 0)) and s.status == "expired"
    assert not s.expire(at(2026, 11, 11, 8, 0))
    with pytest.raises(ValidationFailed):
        s.rate(DEMAND, form(), at(2026, 11, 9, 9, 0))


def test_the_form_names_every_bad_field():
    with pytest.raises(ValidationFailed) as caught:
        rating_form(
            {"overall": "一般", "dimensions": {"attitude": "满意", "taste": "满意"}}
        )
    fields = {e["field"] for e in caught.value.errors}
    assert "overall" in fields and "dimensions.taste" in fields
    assert "dimensions.environment" in fields and "dimensions.attitude" not in fields


def test_an_unsatisfied_rating_is_recognised():
    s = survey(at(2026, 11, 2, 10, 0))
    s.rate(DEMAND, form("非常不满意", comments="收费不透明"), at(2026, 11, 3, 9, 0))
    assert s.unsatisfied
    call_back = CallBack.for_survey(s, CAL)
    assert call_back.id == CallBack.create_id(str(s.id))
    assert call_back.due_at == at(2026, 11, 5, 17, 30).isoformat()


# -- reminders and expiry ---------------------------------------------------


def test_a_reminder_goes_out_once_in_the_last_day_before_due():
    s = survey(at(2026, 11, 2, 10, 0))
    due = s.due
    assert not s.remind_due(
        due - SURVEY_REMINDER_LEAD - timedelta(minutes=1), SURVEY_REMINDER_LEAD
    )
    assert s.remind_due(due - timedelta(hours=3), SURVEY_REMINDER_LEAD)
    assert not s.remind_due(due - timedelta(hours=1), SURVEY_REMINDER_LEAD)
    assert [type(e).__name__ for e in s.pending_events] == ["Issued", "Reminded"]


# -- improvement items (9.3) ------------------------------------------------


def item(**changes) -> ImprovementItem:
    return ImprovementItem.open(
        {
            "source": "efficiency",
            "ref": "assessment-1",
            "institution_id": "jsqi",
            "finding": "首次响应偏慢",
            "owner": "manager-1",
            "actions": ["增加窗口值班"],
            "deadline": at(2026, 12, 1, 17, 30),
            "opened_at": at(2026, 11, 2, 9, 0),
            **changes,
        }
    )


def test_an_overdue_item_escalates_once():
    i = item()
    assert not i.escalate_overdue(at(2026, 12, 1, 17, 30))
    assert i.escalate_overdue(at(2026, 12, 1, 17, 31))
    assert not i.escalate_overdue(at(2026, 12, 5, 9, 0))
    assert [type(e).__name__ for e in i.pending_events] == ["Opened", "Escalated"]


def test_an_item_is_planned_progressed_and_closed_once():
    i = item(owner="", actions=[])
    with pytest.raises(ValidationFailed) as caught:
        i.close("已整改")
    assert caught.value.errors[0]["field"] == "actions"
    i.plan("staff-b", ["复核收费公示"], at(2026, 12, 10, 17, 30))
    i.record_progress("已更新公示栏")
    i.close("收费公示已更新")
    assert i.status == "closed" and not i.escalate_overdue(at(2027, 1, 4, 9, 0))
    with pytest.raises(ValidationFailed):
        i.record_progress("再记一次")


def test_an_item_needs_a_known_source_and_a_finding():
    with pytest.raises(ValidationFailed) as caught:
        item(source="rumour")
    assert caught.value.errors[0]["field"] == "source"
    with pytest.raises(ValidationFailed) as caught:
        item(finding=" ")
    assert caught.value.errors[0]["field"] == "finding"


# -- manager-only steps -------------------------------------------------------


def test_only_a_manager_comments_on_efficiency_or_signs_a_summary_off():
    assessment = EfficiencyAssessment(
        staff_id="staff-a", since="s", until="u", figures={"x": 1}
    )
    with pytest.raises(ValidationFailed) as caught:
        assessment.comment("staff-a", "staff", "我很好")
    assert caught.value.errors[0]["field"] == "role"
    assessment.comment("manager-1", "manager", "响应及时，继续保持")
    assert assessment.comments == [
        {"manager": "manager-1", "text": "响应及时，继续保持"}
    ]

    summary = HalfYearSummary(institution_id="jsqi", year=2026, half=1, figures={})
    with pytest.raises(ValidationFailed):
        summary.sign_off("staff-a", "staff", "同意")
    summary.sign_off("manager-1", "manager", "同意")
    with pytest.raises(ValidationFailed):
        summary.redraft({"y": 2})

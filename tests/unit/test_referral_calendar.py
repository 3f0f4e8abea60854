"""Referral deadlines in working days: across the 2026 National Day holiday
with its worked Sunday 20 September and Saturday 10 October, and past the last
year chinese-calendar knows (the documented fallback of shared.calendar)."""

import json
import logging
from datetime import date, datetime, timedelta

import chinese_calendar
from prometheus_client import REGISTRY

from services.referral.domain import Referral
from shared import calendar
from shared.calendar import SHANGHAI, WorkingCalendar

CAL = WorkingCalendar()


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def referral(cycle: int, green: bool = False) -> Referral:
    r = Referral.request(
        "demand-1",
        "6.1.2",
        description="",
        kind="demand",
        requester={"kind": "customer", "name": ""},
        first_responder="staff-a",
        origin_institution="jsqi",
        green_channel=green,
        cycle_days=cycle,
    )
    r.match([{"kind": "institution", "id": "lab", "institution_id": "lab"}])
    return r


def fallback_count(year: int) -> float:
    value = REGISTRY.get_sample_value("qi_calendar_fallback_total", {"year": str(year)})
    return value or 0.0


def test_the_worked_weekend_days_of_2026_in_chinese_calendar():
    day, worked = date(2026, 1, 1), []
    while day.year == 2026:
        if day.weekday() >= 5 and chinese_calendar.is_workday(day):
            worked.append(day)
        day += timedelta(days=1)
    assert worked == [
        date(2026, 1, 4),  # Sunday, New Year
        date(2026, 2, 14),  # Saturday, Spring Festival
        date(2026, 2, 28),  # Saturday, Spring Festival
        date(2026, 5, 9),  # Saturday, Labour Day
        date(2026, 9, 20),  # Sunday, National Day
        date(2026, 10, 10),  # Saturday, National Day
    ]
    assert all(CAL.is_working_day(d) for d in worked)
    assert not any(CAL.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert not CAL.is_working_day(date(2026, 9, 25))  # Mid-Autumn, a Friday


def test_acceptance_counts_the_worked_sunday_20_september():
    sent_friday = at(2026, 9, 18, 10)
    r = referral(7)
    r.send(sent_friday, CAL)
    assert r.acceptance_due == "2026-09-21T17:30:00+08:00"  # Sun 20, Mon 21
    green = referral(7, green=True)
    green.send(sent_friday, CAL)
    assert green.acceptance_due == "2026-09-20T17:30:00+08:00"  # the Sunday


def test_completion_across_national_day_counts_saturday_10_october():
    r = referral(7)  # 6.1.2 calibration: a 7 working-day cycle
    r.send(at(2026, 9, 28, 9), CAL)
    r.accept(at(2026, 9, 28, 15), CAL)
    # 29, 30 Sep; 1-7 Oct off; 8, 9, 10 (Saturday, worked), 12, 13 Oct
    assert r.completion_due == "2026-10-13T17:30:00+08:00"
    assert r.escalate_overdue(at(2026, 10, 13, 17, 30)) == []
    assert r.escalate_overdue(at(2026, 10, 13, 17, 31)) == ["completion"]
    green = referral(7, green=True)
    green.send(at(2026, 9, 28, 9), CAL)
    green.accept(at(2026, 9, 28, 15), CAL)
    assert green.completion_due == "2026-10-09T17:30:00+08:00"  # 4 days


def test_acceptance_over_mid_autumn_and_the_weekend():
    r = referral(5)
    r.send(at(2026, 9, 24, 16), CAL)
    assert r.acceptance_due == "2026-09-29T17:30:00+08:00"  # 25-27 off


def test_a_deadline_reaching_into_2027_uses_the_documented_fallback(
    monkeypatch, caplog
):
    assert calendar.DATA_YEARS[1] == 2026  # chinese-calendar 1.11.0
    monkeypatch.setattr(calendar, "_warned_years", set())
    before = fallback_count(2027)
    r = referral(10)
    r.send(at(2026, 12, 23, 9), CAL)
    with caplog.at_level(logging.WARNING, logger="shared.calendar"):
        r.accept(at(2026, 12, 24, 10), CAL)
    # 25, 28-31 Dec (data); 1 Jan 2027 fixed holiday, weekdays after (fallback)
    assert r.completion_due == "2027-01-08T17:30:00+08:00"
    assert fallback_count(2027) > before
    assert any("2027" in m and "QI_CALENDAR_OVERRIDES" in m for m in caplog.messages)


def test_an_override_file_corrects_the_fallback(tmp_path, monkeypatch):
    overrides = tmp_path / "jiangsu-2027.json"
    overrides.write_text(
        json.dumps({"_comment": "省内调休", "2027-01-04": "holiday"}), encoding="utf-8"
    )
    monkeypatch.setenv("QI_CALENDAR_OVERRIDES", str(overrides))
    r = referral(10)
    r.send(at(2026, 12, 23, 9), CAL)
    r.accept(at(2026, 12, 24, 10), calendar.calendar_from_env())
    assert r.completion_due == "2027-01-11T17:30:00+08:00"

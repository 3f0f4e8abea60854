"""Working days and office hours: chinese_calendar's data, fallback, overrides."""

import json
import logging
from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest
from prometheus_client import REGISTRY

from shared import calendar
from shared.calendar import SHANGHAI, WorkingCalendar

CAL = WorkingCalendar()
LAST = calendar.DATA_YEARS[1]
PAST = LAST + 1  # the first year without data (2027 with chinese-calendar 1.11.0)


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def days(start: date, end: date):
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def fallback_count(year: int) -> float:
    value = REGISTRY.get_sample_value("qi_calendar_fallback_total", {"year": str(year)})
    return value or 0.0


@pytest.fixture
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(calendar, "_warned_years", set())


# -- chinese_calendar's data (2026) -----------------------------------------


def test_the_data_range_is_read_from_the_library():
    assert calendar.DATA_YEARS[0] <= 2026 <= LAST
    assert any(d.year == LAST for d in chinese_calendar.holidays)


def test_2026_spring_festival_and_its_adjusted_saturdays():
    festival = [d for d in chinese_calendar.holidays if d.year == 2026 and d.month == 2]
    assert festival  # 15-23 Feb 2026 in 1.11.0
    for d in festival:
        assert not CAL.is_working_day(d)
    adjusted = [d for d in chinese_calendar.workdays if d.year == 2026]
    assert any(d.weekday() >= 5 for d in adjusted)
    for d in adjusted:
        assert CAL.is_working_day(d)
    assert CAL.is_working_day(date(2026, 2, 14))  # a Saturday, worked
    assert not CAL.is_working_day(date(2026, 2, 16))  # a Monday, Spring Festival


def test_agrees_with_the_library_for_every_day_of_the_last_data_year():
    for d in days(date(LAST, 1, 1), date(LAST, 12, 31)):
        assert CAL.is_working_day(d) == chinese_calendar.is_workday(d), d


def test_five_working_days_across_national_day_2026():
    # 1-7 Oct are holidays, Saturday 10 Oct is worked
    start = date(2026, 9, 30)
    expected = [
        d
        for d in days(date(2026, 10, 1), date(2026, 10, 31))
        if chinese_calendar.is_workday(d)
    ][4]
    assert CAL.add_working_days(start, 5) == expected == date(2026, 10, 13)
    assert CAL.working_days_between(start, expected) == 5
    assert CAL.working_days_between(expected, start) == -5


def test_the_start_day_does_not_count():
    monday = date(2026, 3, 2)
    assert CAL.add_working_days(monday, 0) == monday
    assert CAL.add_working_days(monday, 1) == date(2026, 3, 3)
    assert CAL.add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # Sat
    assert CAL.working_days_between(monday, monday) == 0
    with pytest.raises(ValueError):
        CAL.add_working_days(monday, -1)


def test_satisfaction_deadline_is_close_of_office_on_the_fifth_working_day():
    received = at(2026, 9, 30, 16, 0)
    assert CAL.deadline(received, 5) == at(2026, 10, 13, 17, 30)
    assert not CAL.is_overdue(received, 5, at(2026, 10, 13, 17, 30))
    assert CAL.is_overdue(received, 5, at(2026, 10, 13, 17, 31))


# -- office hours -----------------------------------------------------------


def test_working_hours_skip_the_lunch_break():
    assert CAL.add_working_hours(at(2026, 3, 2, 11), 2) == at(2026, 3, 2, 14, 30)
    assert CAL.working_hours_between(at(2026, 3, 2, 11), at(2026, 3, 2, 14, 30)) == 2


def test_working_hours_run_overnight():
    assert CAL.add_working_hours(at(2026, 3, 2, 16, 30), 2) == at(2026, 3, 3, 9, 30)
    assert CAL.add_working_hours(at(2026, 3, 2, 16, 30), 1) == at(2026, 3, 2, 17, 30)


def test_working_hours_skip_a_weekend():
    friday = at(2026, 3, 6, 17)
    assert CAL.add_working_hours(friday, 1) == at(2026, 3, 9, 9)
    assert CAL.working_hours_between(friday, at(2026, 3, 9, 9)) == 1
    assert CAL.working_hours_between(at(2026, 3, 7, 9), at(2026, 3, 8, 18)) == 0


def test_no_owner_action_for_16_working_hours_across_spring_festival():
    # 7.4.2: Friday 13 Feb 2026 at 16:00; Saturday 14 Feb is worked (7.5 h),
    # 15-23 Feb are holidays, Tuesday 24 Feb resumes
    start = at(2026, 2, 13, 16)
    due = CAL.add_working_hours(start, 16)
    assert due == at(2026, 2, 24, 17)  # 1.5 + 7.5 + 3.5 + 3.5 = 16
    assert CAL.working_hours_between(start, due) == 16


def test_a_moment_outside_hours_starts_at_the_next_opening():
    assert CAL.add_working_hours(at(2026, 3, 2, 12, 30), 1) == at(2026, 3, 2, 14, 30)
    assert CAL.add_working_hours(at(2026, 3, 2, 6), 0.5) == at(2026, 3, 2, 9)
    assert CAL.add_working_hours(at(2026, 3, 7, 10), 0) == at(2026, 3, 9, 8, 30)
    assert CAL.working_hours_between(at(2026, 3, 2), at(2026, 3, 3)) == 7.5


def test_hours_use_shanghai_time_and_need_aware_datetimes():
    utc = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
    assert CAL.add_working_hours(utc, 2) == at(2026, 3, 2, 14, 30)
    with pytest.raises(ValueError):
        CAL.add_working_hours(datetime(2026, 3, 2, 11), 1)


def test_custom_office_hours():
    cal = WorkingCalendar(hours=((time(9), time(17)),))
    assert cal.add_working_hours(at(2026, 3, 2, 16), 2) == at(2026, 3, 3, 10)
    with pytest.raises(ValueError):
        WorkingCalendar(hours=((time(13), time(12)),))


# -- past the data: fallback rule ------------------------------------------


def test_a_year_past_the_data_uses_the_rule(fresh_warnings):
    for d in days(date(PAST, 1, 1), date(PAST, 12, 31)):
        fixed = (d.month, d.day) in {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
        assert CAL.is_working_day(d) == (d.weekday() < 5 and not fixed), d
    assert CAL.add_working_days(date(PAST, 3, 1), 10) > date(PAST, 3, 1)
    assert CAL.add_working_hours(at(PAST, 3, 1, 9), 100) > at(PAST, 3, 1, 9)


def test_2027_does_not_crash():
    assert CAL.is_working_day(date(2027, 1, 4))  # a Monday
    assert not CAL.is_working_day(date(2027, 1, 1))


def test_the_fallback_warns_once_per_year_and_counts_every_lookup(
    fresh_warnings, caplog
):
    before = fallback_count(PAST)
    with caplog.at_level(logging.WARNING, logger="shared.calendar"):
        for d in days(date(PAST, 6, 1), date(PAST, 6, 10)):
            CAL.is_working_day(d)
        CAL.is_working_day(date(2026, 6, 1))  # data: neither warned nor counted
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(PAST) in warnings[0].getMessage()
    assert "QI_CALENDAR_OVERRIDES" in warnings[0].getMessage()
    assert fallback_count(PAST) - before == 10

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="shared.calendar"):
        CAL.is_working_day(date(PAST + 1, 6, 1))
    assert len(caplog.records) == 1 and str(PAST + 1) in caplog.records[0].message


# -- overrides --------------------------------------------------------------


def test_an_override_file_changes_the_answer(tmp_path, monkeypatch, fresh_warnings):
    weekday = next(
        d for d in days(date(PAST, 2, 1), date(PAST, 2, 28)) if d.weekday() < 5
    )
    saturday = next(
        d for d in days(date(PAST, 2, 1), date(PAST, 2, 28)) if d.weekday() == 5
    )
    path = tmp_path / "overrides.json"
    path.write_text(
        json.dumps(
            {
                weekday.isoformat(): "holiday",
                saturday.isoformat(): "workday",
                "2026-02-14": "holiday",  # wins over chinese_calendar too
            }
        )
    )
    monkeypatch.setenv("QI_CALENDAR_OVERRIDES", str(path))
    cal = calendar.calendar_from_env()
    assert CAL.is_working_day(weekday) and not cal.is_working_day(weekday)
    assert not CAL.is_working_day(saturday) and cal.is_working_day(saturday)
    assert CAL.is_working_day(date(2026, 2, 14))
    assert not cal.is_working_day(date(2026, 2, 14))

    before = fallback_count(PAST)
    cal.is_working_day(weekday)  # answered by the file: no fallback
    assert fallback_count(PAST) == before


def test_no_override_variable_means_no_overrides(monkeypatch):
    monkeypatch.delenv("QI_CALENDAR_OVERRIDES", raising=False)
    assert calendar.calendar_from_env().overrides == {}


def test_the_example_file_loads():
    example = calendar.config.REPO_ROOT / "shared/calendar_overrides.example.json"
    overrides = calendar.load_overrides(example)
    assert overrides[date(2027, 2, 5)] is False
    assert overrides[date(2027, 2, 20)] is True
    assert all(d.year == 2027 for d in overrides)


@pytest.mark.parametrize(
    "content",
    ['{"2027-02-10": "off"}', '{"10/02/2027": "holiday"}', '["2027-02-10"]'],
)
def test_a_bad_override_file_is_refused(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="bad.json"):
        calendar.load_overrides(path)

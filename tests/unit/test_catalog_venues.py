"""Service venues (5.1, 5.2.1.1) and their equipment (5.1.6, 5.1.7), in memory."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from eventsourcing.application import Application

from services.catalog.venues import Equipment, Venue, overdue, parse_hours
from shared.errors import ValidationFailed

CST = timezone(timedelta(hours=8))
MONDAY = date(2025, 3, 3)
HOURS = {
    "mon": ["08:30-12:00", "13:30-17:30"],
    "tue": ["08:30-12:00", "13:30-17:30"],
    "sat": ["09:00-12:00"],
}


def fields_of(caught) -> list[str]:
    return [error["field"] for error in caught.value.errors]


def venue(**change) -> Venue:
    details = {
        "institution_id": "jsqi",
        "kind": "window",
        "name": "一站式服务受理窗口",
        "address": "南京市玄武区光华路1号",
        "hours": HOURS,
        "accepts": ["6.3", "6.1.2"],
        "contact_phone": "025-83210000",
        **change,
    }
    return Venue.open(**details)


def at(hour: int, minute: int = 0, second: int = 0, day: int = 0) -> datetime:
    return datetime(2025, 3, 3 + day, hour, minute, second, tzinfo=CST)


def equipment(interval_days=30, last_checked=MONDAY, **change) -> Equipment:
    details = {
        "venue_id": "venue-1",
        "name": "干粉灭火器",
        "category": "fire",
        "asset_no": "XF-001",
        "interval_days": interval_days,
        "last_checked": last_checked,
        **change,
    }
    return Equipment.register(**details)


# -- opening a venue ----------------------------------------------------------


def test_a_window_is_opened_with_hours_for_every_day_and_items_in_clause_order():
    window = venue(accepts=["6.10", "6.3", "6.2", "6.3"])
    assert type(window.pending_events[0]).__name__ == "Opened"
    assert window.hours["mon"] == ["08:30-12:00", "13:30-17:30"]
    assert window.hours["sun"] == []
    assert list(window.hours) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert window.accepts == ["6.2", "6.3", "6.10"]
    assert window.id == venue().id  # one venue of this name per institution


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "kiosk"}, "kind"),
        ({"name": "  "}, "name"),
        ({"address": ""}, "address"),
        ({"institution_id": None}, "institution_id"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"contact_phone": ""}, "contact_phone"),
        ({"accepts": ["7.1"]}, "accepts"),
        ({"accepts": ["6.11"]}, "accepts"),
        ({"accepts": ["6.3.100"]}, "accepts"),
        ({"accepts": "6.3"}, "accepts"),
        ({"accepts": []}, "accepts"),  # a window must accept something
        ({"hours": {}}, "hours"),
        ({"hours": ["08:30-12:00"]}, "hours"),
    ],
)
def test_bad_venue_details_name_the_field(change, field):
    with pytest.raises(ValidationFailed) as caught:
        venue(**change)
    assert fields_of(caught) == [field]


def test_a_site_may_accept_no_items_and_phones_may_be_mobile_or_landline():
    site = venue(kind="site", accepts=[], contact_phone="13912345678")
    assert site.accepts == []
    assert venue(contact_phone="0512-6888888-102").contact_phone == "0512-6888888-102"


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(ValidationFailed) as caught:
        venue(kind="", name="", hours={"mon": ["8:30-12:00"]})
    assert fields_of(caught) == ["kind", "name", "hours.mon[0]"]


# -- opening hours ------------------------------------------------------------


@pytest.mark.parametrize(
    "hours, field, message",
    [
        ({"mon": ["8:30-12:00"]}, "hours.mon[0]", "HH:MM-HH:MM"),
        ({"mon": ["08:30-24:00"]}, "hours.mon[0]", "HH:MM-HH:MM"),
        ({"mon": ["08:60-12:00"]}, "hours.mon[0]", "HH:MM-HH:MM"),
        ({"mon": ["08:30 - 12:00"]}, "hours.mon[0]", "HH:MM-HH:MM"),
        ({"mon": [830]}, "hours.mon[0]", "HH:MM-HH:MM"),
        ({"tue": ["12:00-12:00"]}, "hours.tue[0]", "结束时间应晚于开始时间"),
        ({"tue": ["17:30-13:30"]}, "hours.tue[0]", "结束时间应晚于开始时间"),
        (
            {"wed": ["08:30-12:00", "11:30-17:30"]},
            "hours.wed[1]",
            "星期三的时段应按先后排列且不重叠",
        ),
        (
            {"fri": ["13:30-17:30", "08:30-12:00"]},
            "hours.fri[1]",
            "星期五的时段应按先后排列且不重叠",
        ),
        ({"monday": ["08:30-12:00"]}, "hours.monday", "星期应为"),
        ({"sun": "09:00-12:00"}, "hours.sun", "应为时段列表"),
        ({"mon": [], "sat": []}, "hours", "请至少填写一个营业时段"),
    ],
)
def test_opening_hours_are_checked(hours, field, message):
    with pytest.raises(ValidationFailed) as caught:
        parse_hours(hours)
    assert fields_of(caught) == [field]
    assert message in caught.value.errors[0]["message"]


def test_touching_ranges_are_allowed_and_left_as_given():
    hours = parse_hours({"thu": ["08:00-12:00", "12:00-13:00"]})
    assert hours["thu"] == ["08:00-12:00", "12:00-13:00"]


@pytest.mark.parametrize(
    "moment, expected",
    [
        (at(8, 29, 59), False),  # a second before opening
        (at(8, 30), True),  # opening time is included
        (at(11, 59, 59), True),
        (at(12, 0), False),  # closing time is not
        (at(13, 30), True),
        (at(17, 29), True),
        (at(17, 30), False),
        (at(10, day=2), False),  # Wednesday: no hours
        (at(11, 59, day=5), True),  # Saturday morning
        (at(10, day=6), False),  # Sunday
        (datetime(2025, 3, 3, 0, 30, tzinfo=UTC), True),  # 08:30 in China
        (datetime(2025, 3, 3, 4, 0, tzinfo=UTC), False),  # 12:00 in China
        (datetime(2025, 3, 3, 9, 0), True),  # naive: local wall-clock time
    ],
)
def test_is_open_at_includes_the_start_and_excludes_the_end(moment, expected):
    assert venue().is_open_at(moment) is expected


def test_hours_change_and_an_unchanged_timetable_is_refused():
    window = venue()
    window.change_hours({**HOURS, "wed": ["08:30-12:00"]})
    assert type(window.pending_events[-1]).__name__ == "HoursChanged"
    assert window.is_open_at(at(10, day=2))
    with pytest.raises(ValidationFailed, match="没有变化"):
        window.change_hours({**HOURS, "wed": ["08:30-12:00"]})
    with pytest.raises(ValidationFailed) as caught:
        window.change_hours({"wed": ["12:00-08:30"]})
    assert fields_of(caught) == ["hours.wed[0]"]


def test_accepted_items_change_and_cover_their_sub_items():
    window = venue()
    assert window.accepts_item("6.3.2")
    assert not window.accepts_item("6.1.1")  # only 6.1.2 of 6.1 is accepted
    window.change_accepted_items(["6.10", "6.1"])
    assert type(window.pending_events[-1]).__name__ == "AcceptedItemsChanged"
    assert window.accepts == ["6.1", "6.10"]
    assert window.accepts_item("6.1.1") and window.accepts_item("6.10.2")
    assert not window.accepts_item("6.3.2")
    with pytest.raises(ValidationFailed, match="没有变化"):
        window.change_accepted_items(["6.1", "6.10"])
    with pytest.raises(ValidationFailed) as caught:
        window.change_accepted_items([])
    assert fields_of(caught) == ["accepts"]


def test_a_closed_venue_is_closed_from_its_closing_day_and_cannot_change():
    window = venue()
    with pytest.raises(ValidationFailed) as caught:
        window.close(datetime(2025, 3, 10, 9), "")
    assert fields_of(caught) == ["closed_on", "reason"]
    window.close("2025-03-10", "迁至新址")
    assert type(window.pending_events[-1]).__name__ == "Closed"
    assert window.is_open_at(at(9))  # the Monday before
    assert not window.is_open_at(at(9, day=7))  # the closing Monday
    with pytest.raises(ValidationFailed, match="已关闭"):
        window.change_hours(HOURS)
    with pytest.raises(ValidationFailed, match="已关闭"):
        window.close(date(2025, 3, 11), "再次关闭")


# -- equipment ----------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        ({"category": "furniture"}, "category"),
        ({"name": ""}, "name"),
        ({"asset_no": " "}, "asset_no"),
        ({"venue_id": ""}, "venue_id"),
        ({"interval_days": 0}, "interval_days"),
        ({"interval_days": 731}, "interval_days"),
        ({"interval_days": "30"}, "interval_days"),
        ({"interval_days": True}, "interval_days"),
        ({"last_checked": "2025-02-30"}, "last_checked"),
        ({"last_checked": datetime(2025, 3, 3, 9)}, "last_checked"),
    ],
)
def test_bad_equipment_details_name_the_field(change, field):
    with pytest.raises(ValidationFailed) as caught:
        equipment(**change)
    assert fields_of(caught) == [field]


def test_equipment_is_due_an_interval_after_its_last_check():
    item = equipment(interval_days=30, last_checked="2025-03-03")
    assert type(item.pending_events[0]).__name__ == "Registered"
    assert item.next_due() == date(2025, 4, 2)
    assert item.id == equipment().id  # one record per asset number and venue


def test_equipment_is_overdue_only_after_its_due_date():
    item = equipment(interval_days=30)
    due = item.next_due()
    assert not item.is_overdue(due - timedelta(days=1))
    assert not item.is_overdue(due)  # a check on the due date is on time
    assert item.is_overdue(due + timedelta(days=1))


def test_a_check_on_the_due_date_restarts_the_schedule():
    item = equipment(interval_days=30)
    due = item.next_due()
    item.check(due, "ok", "王工")
    assert type(item.pending_events[-1]).__name__ == "Checked"
    assert item.last_checked == due
    assert item.next_due() == due + timedelta(days=30)
    assert not item.is_overdue(due + timedelta(days=1))
    assert item.checks == [
        {"checked_on": due.isoformat(), "result": "ok", "by": "王工", "note": ""}
    ]


def test_a_check_records_its_result_and_bad_checks_name_the_field():
    item = equipment()
    item.check(MONDAY + timedelta(days=3), "needs_repair", "李工", "压力表指针偏低")
    assert item.condition == "needs_repair"
    with pytest.raises(ValidationFailed) as caught:
        item.check(MONDAY, "broken", "")
    assert fields_of(caught) == ["checked_on", "result", "by"]
    assert "不能早于上次检查" in caught.value.errors[0]["message"]


def test_a_schedule_change_moves_the_due_date():
    item = equipment(interval_days=30)
    item.change_schedule(7)
    assert type(item.pending_events[-1]).__name__ == "ScheduleChanged"
    assert item.next_due() == MONDAY + timedelta(days=7)
    assert item.is_overdue(MONDAY + timedelta(days=8))
    with pytest.raises(ValidationFailed, match="没有变化"):
        item.change_schedule(7)
    with pytest.raises(ValidationFailed) as caught:
        item.change_schedule(-1)
    assert fields_of(caught) == ["interval_days"]


def test_retired_equipment_is_never_overdue_and_cannot_be_checked():
    item = equipment(interval_days=7)
    item.retire(MONDAY + timedelta(days=20), "超过使用年限")
    assert type(item.pending_events[-1]).__name__ == "Retired"
    assert not item.is_overdue(MONDAY + timedelta(days=100))
    with pytest.raises(ValidationFailed, match="已报废"):
        item.check(MONDAY + timedelta(days=21), "ok", "王工")


def test_overdue_lists_the_longest_overdue_first_and_skips_the_rest():
    today = date(2025, 6, 1)
    weekly = equipment(7, "2025-05-20", asset_no="D", name="应急照明灯")
    yearly = equipment(365, "2024-05-01", asset_no="A", name="打印机")
    on_time = equipment(30, "2025-05-02", asset_no="B")  # due today
    retired = equipment(7, "2025-01-01", asset_no="C")
    retired.retire("2025-02-01", "损坏")
    same_day = equipment(7, "2025-05-20", asset_no="E", name="排队叫号机")
    flagged = overdue([same_day, weekly, on_time, retired, yearly], today)
    assert [e.asset_no for e in flagged] == ["A", "D", "E"]  # same day: by name
    assert overdue([], today) == []


# -- stored and reloaded ------------------------------------------------------


def test_venue_and_equipment_round_trip_through_an_application():
    app = Application()
    window = venue()
    window.change_hours({**HOURS, "sun": ["09:00-11:00"]})
    window.change_accepted_items(["6.7"])
    window.close(date(2025, 12, 31), "合并至综合服务体")
    item = equipment()
    item.check(MONDAY + timedelta(days=30), "out_of_service", "王工", "待更换")
    item.change_schedule(14)
    item.retire(date(2025, 5, 1), "已更换")
    app.save(window, item)

    stored = app.repository.get(window.id)
    assert stored.version == 4
    assert stored.hours == window.hours and stored.accepts == ["6.7"]
    assert stored.closed_on == date(2025, 12, 31)
    assert stored.is_open_at(at(9, day=6))  # the new Sunday hours
    again = app.repository.get(item.id)
    assert again.version == 4
    assert again.last_checked == date(2025, 4, 2)
    assert again.condition == "out_of_service" and again.interval_days == 14
    assert again.retired_on == date(2025, 5, 1)

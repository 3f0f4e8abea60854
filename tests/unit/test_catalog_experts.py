"""Experts coordinated to serve a request (5.2.2 c), in memory."""

from datetime import date, datetime

import pytest
from eventsourcing.application import Application

from services.catalog.experts import Expert, match_experts
from shared.errors import ValidationFailed

DAY = date(2025, 3, 3)


def fields_of(caught) -> list[str]:
    return [error["field"] for error in caught.value.errors]


def expert(name="张明", fields=("6.3",), **change) -> Expert:
    details = {
        "name": name,
        "fields": list(fields),
        "title": "正高级工程师",
        "phone": "13912345678",
        "specialities": ["食品微生物检验"],
        **change,
    }
    return Expert.register(**details)


def on_leave(person: Expert, start, end, reason="leave") -> Expert:
    person.add_unavailability(start, end, reason)
    return person


# -- registering --------------------------------------------------------------


def test_an_expert_is_registered_with_fields_in_clause_order():
    person = expert(fields=["6.10", "6.3.2", "6.2", "6.2"], institution_id="jsqi")
    assert type(person.pending_events[0]).__name__ == "Registered"
    assert person.fields == ["6.2", "6.3.2", "6.10"]
    assert person.specialities == ["食品微生物检验"]
    assert person.institution_id == "jsqi"
    assert expert().institution_id is None  # an independent expert


def test_an_expert_may_be_reached_by_e_mail_alone():
    person = expert(phone="", email="zhang.ming@jsqi.org.cn")
    assert person.email == "zhang.ming@jsqi.org.cn" and person.phone == ""


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": ""}, "name"),
        ({"fields": []}, "fields"),
        ({"fields": ["6.3", "5.2"]}, "fields"),
        ({"title": " "}, "title"),
        ({"phone": "8321000"}, "phone"),
        ({"phone": "", "email": "zhang@"}, "email"),
        ({"phone": "", "email": "zhang ming@jsqi.cn"}, "email"),
        ({"phone": "", "email": ""}, "phone"),  # no way to reach the expert
        ({"specialities": ["", "计量"]}, "specialities"),
        ({"specialities": ["很" * 51]}, "specialities"),
        ({"institution_id": ""}, "institution_id"),
    ],
)
def test_bad_expert_details_name_the_field(change, field):
    with pytest.raises(ValidationFailed) as caught:
        expert(**change)
    assert fields_of(caught) == [field]


def test_fields_change_and_an_unchanged_change_is_refused():
    person = expert()
    person.change_fields(["6.4", "6.3"], ["体系认证咨询"])
    assert type(person.pending_events[-1]).__name__ == "FieldsChanged"
    assert person.fields == ["6.3", "6.4"]
    assert person.specialities == ["体系认证咨询"]
    with pytest.raises(ValidationFailed, match="没有变化"):
        person.change_fields(["6.3", "6.4"], ["体系认证咨询"])
    with pytest.raises(ValidationFailed) as caught:
        person.change_fields(["6.x"], [])
    assert fields_of(caught) == ["fields"]


# -- availability -------------------------------------------------------------


def test_unavailability_includes_both_ends_of_its_range():
    person = on_leave(expert(), "2025-03-10", "2025-03-14")
    assert type(person.pending_events[-1]).__name__ == "UnavailabilityAdded"
    assert person.available_on(date(2025, 3, 9))
    assert not person.available_on(date(2025, 3, 10))
    assert not person.available_on(date(2025, 3, 12))
    assert not person.available_on(date(2025, 3, 14))
    assert person.available_on(date(2025, 3, 15))


def test_a_single_day_can_be_booked():
    person = on_leave(expert(), DAY, DAY, reason="booked")
    assert person.unavailable[0]["reason"] == "booked"
    assert not person.available_on(DAY)
    assert person.available_on(date(2025, 3, 4))


@pytest.mark.parametrize(
    "start, end, reason, fields",
    [
        ("2025-03-14", "2025-03-10", "leave", ["end"]),
        ("2025-03-32", "2025-04-01", "leave", ["start"]),
        (datetime(2025, 3, 10, 9), "2025-03-11", "leave", ["start"]),
        ("2025-03-10", "2025-03-11", "holiday", ["reason"]),
    ],
)
def test_bad_unavailability_names_the_field(start, end, reason, fields):
    with pytest.raises(ValidationFailed) as caught:
        expert().add_unavailability(start, end, reason)
    assert fields_of(caught) == fields


@pytest.mark.parametrize(
    "start, end",
    [
        ("2025-03-14", "2025-03-20"),  # shares the last day
        ("2025-03-01", "2025-03-10"),  # shares the first day
        ("2025-03-11", "2025-03-12"),  # inside
        ("2025-03-01", "2025-03-31"),  # around
    ],
)
def test_unavailable_periods_may_not_overlap(start, end):
    person = on_leave(expert(), "2025-03-10", "2025-03-14")
    with pytest.raises(ValidationFailed, match="2025-03-10至2025-03-14"):
        person.add_unavailability(start, end, "booked")


def test_adjacent_periods_are_kept_in_date_order():
    person = on_leave(expert(), "2025-03-15", "2025-03-16", reason="booked")
    on_leave(person, "2025-03-10", "2025-03-14")
    assert [p["start"] for p in person.unavailable] == [
        date(2025, 3, 10),
        date(2025, 3, 15),
    ]


def test_a_period_is_removed_by_its_exact_start_and_end():
    person = on_leave(expert(), "2025-03-10", "2025-03-14")
    with pytest.raises(ValidationFailed, match="没有登记"):
        person.remove_unavailability("2025-03-10", "2025-03-13")
    person.remove_unavailability(date(2025, 3, 10), date(2025, 3, 14))
    assert type(person.pending_events[-1]).__name__ == "UnavailabilityRemoved"
    assert person.unavailable == []
    assert person.available_on(date(2025, 3, 12))


def test_a_retired_expert_is_unavailable_from_the_retirement_date():
    person = expert()
    person.retire(date(2025, 4, 1), "退休")
    assert type(person.pending_events[-1]).__name__ == "Retired"
    assert person.available_on(date(2025, 3, 31))
    assert not person.available_on(date(2025, 4, 1))
    with pytest.raises(ValidationFailed, match="已退出"):
        person.add_unavailability("2025-03-10", "2025-03-11", "leave")
    with pytest.raises(ValidationFailed, match="已退出"):
        person.change_fields(["6.4"], [])


# -- matching -----------------------------------------------------------------


def test_exact_sub_item_matches_rank_before_parent_matches_then_by_name():
    parent_b = expert("王芳", ["6.3"])
    exact_b = expert("赵强", ["6.3.2", "6.4"])
    parent_a = expert("李娜", ["6.1", "6.3"])
    exact_a = expert("刘洋", ["6.3.2"])
    ranked = match_experts([parent_b, exact_b, parent_a, exact_a], "6.3.2", DAY)
    # names compare by code point: 刘 < 赵, 李 < 王
    assert [e.name for e in ranked] == ["刘洋", "赵强", "李娜", "王芳"]


def test_matching_skips_unavailable_and_uncovering_experts():
    away = on_leave(expert("陈静", ["6.3.2"]), DAY, DAY)
    retired = expert("周伟", ["6.3"])
    retired.retire(DAY, "调离")
    sub_item_only = expert("孙丽", ["6.3.1"])  # 6.3.1 does not cover 6.3.2
    other_item = expert("吴刚", ["6.1"])  # 6.1 does not cover 6.10.2 either
    free = expert("郑华", ["6.3"])
    experts = [away, retired, sub_item_only, other_item, free]
    assert match_experts(experts, "6.3.2", DAY) == [free]
    assert match_experts(experts, "6.10.2", DAY) == []
    assert match_experts([sub_item_only], "6.3", DAY) == []  # no reverse cover
    next_day = date(2025, 3, 4)
    assert match_experts(experts, "6.3.2", next_day) == [away, free]


def test_matching_refuses_a_code_outside_clause_6():
    with pytest.raises(ValidationFailed) as caught:
        match_experts([expert()], "7.1", DAY)
    assert fields_of(caught) == ["item_code"]


# -- stored and reloaded ------------------------------------------------------


def test_an_expert_round_trips_through_an_application():
    app = Application()
    person = expert(institution_id="jsqi", email="zhang.ming@jsqi.org.cn")
    person.change_fields(["6.3", "6.5.1"], ["食品微生物检验", "质量管理体系"])
    on_leave(person, "2025-03-10", "2025-03-14")
    on_leave(person, "2025-03-20", "2025-03-20", reason="booked")
    person.remove_unavailability("2025-03-20", "2025-03-20")
    person.retire("2025-12-31", "退休")
    app.save(person)

    stored = app.repository.get(person.id)
    assert stored.version == 6
    assert stored.fields == ["6.3", "6.5.1"]
    assert stored.unavailable == person.unavailable
    assert stored.unavailable[0]["end"] == date(2025, 3, 14)
    assert stored.retired_on == date(2025, 12, 31)
    assert match_experts([stored], "6.5.1", date(2025, 3, 20)) == [stored]
    assert match_experts([stored], "6.5.1", date(2025, 3, 12)) == []

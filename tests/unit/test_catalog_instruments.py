"""Large-instrument sharing (6.7): booking rules of one instrument, in memory."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from uuid import uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import RecordConflictError

from services.catalog.instruments import (
    BookingConflict,
    BookingRules,
    Instrument,
    block_end,
    merge,
    request_booking,
)
from shared.application import ServiceApplication
from shared.errors import ConflictError, NotFound, ValidationFailed

CST = timezone(timedelta(hours=8))
DAY = datetime(2025, 3, 3, tzinfo=CST)  # a Monday
NOW = DAY - timedelta(days=1)


def at(hour: float, day: int = 0) -> datetime:
    return DAY + timedelta(days=day, hours=hour)


def field_of(caught) -> str:
    (error,) = caught.value.errors
    return error["field"]


def instrument(**rules) -> Instrument:
    item = Instrument.register(
        owner_id="jsqi",
        name="场发射扫描电子显微镜",
        capabilities=["微区形貌观察", "能谱成分分析"],
        price_per_hour="380.00",
        rules=rules or None,
    )
    item.open_slots([(at(8, d), at(17, d)) for d in range(0, 200)])
    return item


def used(item: Instrument, booking_id: str, requester: str, start, end) -> None:
    """A booking requested, approved, checked in at start and out at ``end``."""
    item.request_booking(booking_id, requester, start, start + timedelta(hours=1), NOW)
    item.approve(booking_id, "staff-1", NOW)
    item.check_in(booking_id, start)
    item.check_out(booking_id, end)


# -- registration and slots ------------------------------------------------


def test_an_instrument_is_registered_with_prices_as_decimal_text():
    item = Instrument.register(
        owner_id="jsqi",
        name="电感耦合等离子体质谱仪",
        capabilities=["痕量元素分析"],
        price_per_sample=Decimal("120.5"),
    )
    assert item.price_per_sample == Decimal("120.5")
    assert item._price_per_sample == "120.5"
    assert item.price_per_hour is None
    assert item.rules == BookingRules()
    assert type(item.pending_events[0]).__name__ == "Registered"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": "ICP-MS"}, "name"),
        ({"name": " "}, "name"),
        ({"owner_id": ""}, "owner_id"),
        ({"capabilities": []}, "capabilities"),
        ({"capabilities": ["分析", 3]}, "capabilities"),
        ({"price_per_hour": None}, "price_per_hour"),
        ({"price_per_hour": "-1"}, "price_per_hour"),
        ({"price_per_hour": "abc"}, "price_per_hour"),
        ({"rules": {"grace_minutes": -5}}, "rules.grace_minutes"),
        ({"rules": {"block_days": 0}}, "rules.block_days"),
        ({"rules": {"grace": 5}}, "rules.grace"),
    ],
)
def test_bad_registration_names_the_field(change, field):
    details = {
        "owner_id": "jsqi",
        "name": "气相色谱仪",
        "capabilities": ["农药残留检测"],
        "price_per_hour": "200",
        **change,
    }
    with pytest.raises(ValidationFailed) as caught:
        Instrument.register(**details)
    assert field_of(caught) == field


def test_slots_must_be_timezone_aware_and_end_after_start():
    item = instrument()
    with pytest.raises(ValidationFailed, match="时区") as caught:
        item.open_slots([(datetime(2025, 3, 3, 8), datetime(2025, 3, 3, 9))])
    assert field_of(caught) == "slots[0].start"
    with pytest.raises(ValidationFailed) as caught:
        item.open_slots([(at(8), at(9)), (at(10), at(10))])
    assert field_of(caught) == "slots[1].end"


def test_touching_and_overlapping_slots_are_joined():
    assert merge([(at(13), at(17)), (at(8), at(12)), (at(12), at(14))]) == [
        (at(8), at(17))
    ]
    assert merge([(at(8), at(9)), (at(10), at(11))]) == [
        (at(8), at(9)),
        (at(10), at(11)),
    ]


# -- requesting ---------------------------------------------------------------


def test_a_booking_inside_an_open_slot_is_requested():
    item = instrument()
    booking = item.request_booking("b1", "cust-1", at(9), at(11), NOW)
    assert booking["state"] == "requested"
    assert booking["state_label"] == "待审批"
    assert type(item.pending_events[-1]).__name__ == "BookingRequested"


@pytest.mark.parametrize(
    "start, end, field",
    [
        (at(7), at(9), "start"),  # begins before the slot opens
        (at(16), at(18), "start"),  # runs past closing
        (at(-2), at(-1), "start"),  # before "now" — in the past
        (at(10), at(9), "end"),
        (datetime(2025, 3, 3, 9), at(10), "start"),
    ],
)
def test_a_booking_must_lie_within_an_open_slot_in_the_future(start, end, field):
    item = instrument()
    with pytest.raises(ValidationFailed) as caught:
        item.request_booking("b1", "cust-1", start, end, at(-1.5))
    assert field_of(caught) == field


def test_overlapping_bookings_conflict_but_touching_ones_do_not():
    item = instrument()
    item.request_booking("b1", "cust-1", at(9), at(11), NOW)
    item.request_booking("b2", "cust-2", at(11), at(12), NOW)  # end == next start
    item.request_booking("b3", "cust-3", at(8), at(9), NOW)
    with pytest.raises(BookingConflict, match="该时段已被预约") as caught:
        item.request_booking("b4", "cust-4", at(10.5), at(11.5), NOW)
    assert isinstance(caught.value, ConflictError)
    assert sorted(item.bookings) == ["b1", "b2", "b3"]


def test_rejected_and_cancelled_bookings_free_their_interval():
    item = instrument()
    item.request_booking("b1", "cust-1", at(9), at(11), NOW)
    item.reject("b1", "staff-1", "样品不适合本仪器")
    item.request_booking("b2", "cust-2", at(9), at(11), NOW)
    item.cancel("b2", "cust-2", NOW)
    item.request_booking("b3", "cust-3", at(9), at(11), NOW)
    assert item.bookings["b3"].state == "requested"


def test_a_booking_id_is_used_once():
    item = instrument()
    item.request_booking("b1", "cust-1", at(9), at(10), NOW)
    with pytest.raises(ValidationFailed, match="已存在"):
        item.request_booking("b1", "cust-1", at(13), at(14), NOW)


# -- approval, cancellation ------------------------------------------------------


def test_staff_approve_or_reject_a_requested_booking_once():
    item = instrument()
    item.request_booking("b1", "cust-1", at(9), at(10), NOW)
    assert item.approve("b1", "staff-7", NOW)["decided_by"] == "staff-7"
    with pytest.raises(ValidationFailed, match="已批准") as caught:
        item.reject("b1", "staff-7", "重复")
    assert field_of(caught) == "booking_id"
    item.request_booking("b2", "cust-1", at(13), at(14), NOW)
    with pytest.raises(ValidationFailed) as caught:
        item.reject("b2", "staff-7", "")
    assert field_of(caught) == "reason"
    with pytest.raises(ValidationFailed, match="没有这个预约"):
        item.approve("nope", "staff-7", NOW)


def test_a_booking_cannot_be_cancelled_once_it_has_started():
    item = instrument()
    item.request_booking("b1", "cust-1", at(9), at(10), NOW)
    with pytest.raises(ValidationFailed, match="已开始"):
        item.cancel("b1", "cust-1", at(9))
    assert item.cancel("b1", "cust-1", at(8.9), "计划变更")["state"] == "cancelled"


# -- check-in, check-out, no-show, overrun ------------------------------------------


def test_check_in_only_for_approved_bookings_in_the_window_around_start():
    item = instrument()
    item.request_booking("b1", "cust-1", at(9), at(10), NOW)
    with pytest.raises(ValidationFailed, match="待审批"):
        item.check_in("b1", at(9))
    item.approve("b1", "staff-1", NOW)
    with pytest.raises(ValidationFailed, match="尚未到签到时间") as caught:
        item.check_in("b1", at(8.4))  # opens 30 minutes before start
    assert field_of(caught) == "now"
    with pytest.raises(ValidationFailed, match="按爽约处理"):
        item.check_in("b1", at(9.26))  # start + 15 minutes has passed
    assert item.check_in("b1", at(9.25))["state"] == "checked_in"


def test_check_out_records_the_actual_end_and_overrun_beyond_grace():
    item = instrument()
    used(item, "b1", "cust-1", at(9), at(10.25))  # exactly end + grace: fine
    assert item.bookings["b1"].checked_out_at == at(10.25)
    assert item.violations == []
    used(item, "b2", "cust-2", at(13), at(14.5))
    assert item.bookings["b2"].overrun_minutes == 30
    assert [type(e).__name__ for e in item.pending_events[-2:]] == [
        "CheckedOut",
        "OverrunRecorded",
    ]
    assert item.violations == [("cust-2", at(14.5), "overrun", "b2")]


def test_check_out_must_follow_check_in():
    item = instrument()
    item.request_booking("b1", "cust-1", at(9), at(10), NOW)
    item.approve("b1", "staff-1", NOW)
    with pytest.raises(ValidationFailed, match="已批准"):
        item.check_out("b1", at(10))
    item.check_in("b1", at(9))
    with pytest.raises(ValidationFailed) as caught:
        item.check_out("b1", at(8))
    assert field_of(caught) == "actual_end"


def test_not_checked_in_by_start_plus_grace_is_a_no_show():
    item = instrument(grace_minutes=10)
    item.request_booking("b1", "cust-1", at(9), at(10), NOW)
    item.request_booking("b2", "cust-2", at(11), at(12), NOW)
    item.approve("b1", "staff-1", NOW)
    item.approve("b2", "staff-1", NOW)
    with pytest.raises(ValidationFailed, match="签到时限未过"):
        item.record_no_show("b1", at(9 + 10 / 60))
    assert item.record_no_shows(at(9.5)) == ["b1"]
    assert item.bookings["b1"].state == "no_show"
    assert item.violations == [("cust-1", at(9 + 10 / 60), "no_show", "b1")]
    assert type(item.pending_events[-1]).__name__ == "NoShowRecorded"


# -- repeated violations ------------------------------------------------------------


def no_show(item: Instrument, booking_id: str, requester: str, day: int) -> None:
    item.request_booking(booking_id, requester, at(9, day), at(10, day), NOW)
    item.approve(booking_id, "staff-1", NOW)
    item.record_no_show(booking_id, at(12, day))


def test_two_violations_within_90_days_block_new_requests_for_30_days():
    item = instrument()
    no_show(item, "b1", "cust-1", day=0)
    used(item, "b2", "cust-1", at(9, 40), at(11, 40))  # overrun: second violation
    with pytest.raises(ValidationFailed, match="2025年5月12日 11:00解除") as caught:
        item.request_booking("b3", "cust-1", at(9, 50), at(10, 50), at(12, 41))
    assert field_of(caught) == "requester"
    item.request_booking("b4", "cust-2", at(9, 50), at(10, 50), at(12, 41))
    item.request_booking("b5", "cust-1", at(9, 71), at(10, 71), at(11, 70))


def test_a_single_violation_or_two_far_apart_do_not_block():
    item = instrument()
    no_show(item, "b1", "cust-1", day=0)
    item.request_booking("b2", "cust-1", at(9, 92), at(10, 92), at(12, 1))
    item.approve("b2", "staff-1", NOW)
    item.record_no_show("b2", at(12, 92))  # 92 days after the first
    assert item.blocked_until("cust-1", at(12, 92)) is None
    item.request_booking("b3", "cust-1", at(9, 93), at(10, 93), at(12, 92))


def test_threshold_and_block_period_are_configurable():
    item = instrument(violation_threshold=1, block_days=7)
    no_show(item, "b1", "cust-1", day=0)
    assert item.blocked_until("cust-1", at(12, 1)) == at(9.25, 7)
    assert item.blocked_until("cust-1", at(9.25, 7)) is None


def test_a_new_violation_inside_the_window_starts_a_new_block():
    rules = BookingRules()
    times = [at(0), at(0, 10), at(0, 60)]
    assert block_end(times, at(0, 20), rules) == at(0, 40)
    assert block_end(times, at(0, 45), rules) is None
    assert block_end(times, at(0, 61), rules) == at(0, 90)  # 3 within 90 days


# -- utilisation --------------------------------------------------------------------


def test_utilisation_is_checked_in_hours_over_open_slot_hours():
    item = instrument()
    used(item, "b1", "cust-1", at(9), at(10.5))  # 1.5 h
    item.request_booking("b2", "cust-2", at(13), at(16), NOW)
    item.approve("b2", "staff-1", NOW)
    item.check_in("b2", at(13.25))  # 15 minutes late: use starts then
    item.check_out("b2", at(18))  # runs an hour past closing: counted to 17:00
    assert item.utilisation(at(0), at(24)) == pytest.approx((1.5 + 3.75) / 9)
    assert item.utilisation(at(9), at(10)) == pytest.approx(1.0)
    assert item.utilisation(at(0, 1), at(24, 1)) == 0.0
    assert item.utilisation(at(18), at(20)) == 0.0  # nothing open then


# -- persistence ----------------------------------------------------------------------


def test_the_state_is_rebuilt_from_the_stored_events():
    app = Application()
    item = instrument()
    used(item, "b1", "cust-1", at(9), at(11))
    no_show(item, "b2", "cust-1", day=1)
    app.save(item)
    copy = app.repository.get(item.id)
    assert copy.slots == item.slots
    assert copy.bookings == item.bookings
    assert copy.violations == item.violations
    assert copy.rules == item.rules
    assert copy.price_per_hour == Decimal("380.00")
    assert copy.blocked_until("cust-1", at(12, 1)) == item.blocked_until(
        "cust-1", at(12, 1)
    )


class InMemoryCatalog(Application):
    """POPO persistence with the kernel's retry; a hook runs before each save."""

    retry_on_conflict = ServiceApplication.retry_on_conflict
    get_existing = ServiceApplication.get_existing
    before_save = None

    def save(self, *objects, **kwargs):
        hook, self.before_save = self.before_save, None
        if hook:
            hook()
        return super().save(*objects, **kwargs)


def test_the_loser_of_a_race_is_retried_and_sees_the_overlap():
    app = InMemoryCatalog()
    item = instrument()
    app.save(item)
    app.before_save = lambda: request_booking(
        app, item.id, "first", "cust-1", at(9), at(11), NOW
    )
    with pytest.raises(BookingConflict, match="该时段已被预约"):
        request_booking(app, item.id, "second", "cust-2", at(10), at(12), NOW)
    assert list(app.repository.get(item.id).bookings) == ["first"]


def test_a_race_for_separate_intervals_is_retried_and_both_are_booked():
    app = InMemoryCatalog()
    item = instrument()
    app.save(item)
    app.before_save = lambda: request_booking(
        app, item.id, "first", "cust-1", at(9), at(11), NOW
    )
    request_booking(app, str(item.id), "second", "cust-2", at(11), at(12), NOW)
    assert sorted(app.repository.get(item.id).bookings) == ["first", "second"]


def test_a_stale_copy_cannot_be_saved():
    app = Application()
    item = instrument()
    app.save(item)
    first, second = app.repository.get(item.id), app.repository.get(item.id)
    first.request_booking("b1", "cust-1", at(9), at(10), NOW)
    second.request_booking("b2", "cust-2", at(9), at(10), NOW)
    app.save(first)
    with pytest.raises(RecordConflictError):
        app.save(second)


@pytest.mark.parametrize("instrument_id", ["not-a-uuid", str(uuid4())])
def test_an_unknown_instrument_is_not_found(instrument_id):
    with pytest.raises(NotFound):
        request_booking(
            InMemoryCatalog(), instrument_id, "b1", "cust-1", at(9), at(10), NOW
        )

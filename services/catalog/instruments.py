"""Large-instrument sharing (6.7 b): an instrument, its open slots and bookings.

All bookings of one instrument are one ``Instrument`` aggregate, so rules across
bookings see one consistent state; concurrent requests race on its version and
``request_booking`` retries the loser on fresh state (delivery contract 5).
Times are timezone-aware; intervals half-open ``[start, end)``; business time
(``now``) is passed in, never read from the clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from eventsourcing.domain import event

from services.catalog.bookings import (
    STATES,
    Booking,
    BookingRules,
    block_end,
    chinese_time,
    hours_within,
    interval,
    merge,
    overlaps,
)
from shared.application import AuditedAggregate, ServiceApplication
from shared.audit import Actor
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.validation import aware, require_text

T = TypeVar("T")
CJK = re.compile(r"[\u4e00-\u9fff]")
FREED = {"rejected", "cancelled"}  # bookings that no longer hold their interval


class BookingConflict(ConflictError):
    """The requested interval overlaps a booking that still holds it."""


# -- pure helpers -----------------------------------------------------------


def money(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value)) if not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise ValidationFailed.single(field, "价格应为不小于0的金额")
    return str(amount)


# -- the aggregate ----------------------------------------------------------


class Instrument(AuditedAggregate):
    """A large instrument an institution shares, with its bookings."""

    @classmethod
    def register(
        cls,
        owner_id: str,
        name: str,
        capabilities: list[str],
        price_per_hour: Any = None,
        price_per_sample: Any = None,
        rules: dict | None = None,
    ) -> Instrument:
        owner_id = require_text(owner_id, "owner_id", "所属机构")
        name = require_text(name, "name", "仪器名称")
        if not CJK.search(name):
            raise ValidationFailed.single("name", "仪器名称应为中文")
        if not isinstance(capabilities, list) or not capabilities:
            raise ValidationFailed.single("capabilities", "请至少填写一项检测能力")
        capabilities = [
            require_text(c, "capabilities", "检测能力") for c in capabilities
        ]
        hourly = money(price_per_hour, "price_per_hour")
        per_sample = money(price_per_sample, "price_per_sample")
        if hourly is None and per_sample is None:
            raise ValidationFailed.single("price_per_hour", "请填写机时价格或单样价格")
        policy = asdict(BookingRules.parse(rules))
        return cls(owner_id, name, capabilities, hourly, per_sample, policy)

    @event("Registered")
    def __init__(
        self, owner_id, name, capabilities, price_per_hour, price_per_sample, rules
    ):
        self.owner_id = owner_id
        self.name = name
        self.capabilities = list(capabilities)
        self._price_per_hour = price_per_hour
        self._price_per_sample = price_per_sample
        self.rules = BookingRules(**rules)
        self.slots: list[tuple[datetime, datetime]] = []
        self.bookings: dict[str, Booking] = {}
        self.violations: list[tuple[str, datetime, str, str]] = []

    @property
    def price_per_hour(self) -> Decimal | None:
        return Decimal(self._price_per_hour) if self._price_per_hour else None

    @property
    def price_per_sample(self) -> Decimal | None:
        return Decimal(self._price_per_sample) if self._price_per_sample else None

    # -- slots ---------------------------------------------------------------

    def open_slots(self, slots: Iterable[tuple[datetime, datetime]]) -> None:
        """Open slots for booking; overlapping or touching slots are joined."""
        checked = []
        for i, slot in enumerate(slots):
            if not isinstance(slot, list | tuple) or len(slot) != 2:
                raise ValidationFailed.single(f"slots[{i}]", "时段应为(开始, 结束)")
            checked.append(interval(*slot, prefix=f"slots[{i}]."))
        if not checked:
            raise ValidationFailed.single("slots", "请至少开放一个时段")
        self._slots_opened([[start, end] for start, end in checked])

    @event("SlotsOpened")
    def _slots_opened(self, slots: list) -> None:
        self.slots = merge([*self.slots, *(tuple(s) for s in slots)])

    # -- bookings -------------------------------------------------------------

    def blocked_until(self, requester: str, now: datetime) -> datetime | None:
        times = [at for who, at, _, _ in self.violations if who == requester]
        return block_end(times, now, self.rules)

    def request_booking(self, booking_id, requester, start, end, now) -> dict:
        booking_id = require_text(booking_id, "booking_id", "预约编号")
        if booking_id in self.bookings:
            raise ValidationFailed.single("booking_id", "预约编号已存在")
        requester = require_text(requester, "requester", "预约人")
        start, end = interval(start, end)
        now = aware(now, "now")
        if start < now:
            raise ValidationFailed.single("start", "预约开始时间不能早于当前时间")
        if not any(s <= start and end <= e for s, e in self.slots):
            raise ValidationFailed.single("start", "预约时段不在仪器开放时段内")
        until = self.blocked_until(requester, now)
        if until is not None:
            raise ValidationFailed.single(
                "requester",
                "该预约人近期多次爽约或超时使用，已被暂停预约，"
                f"至{chinese_time(until, now.tzinfo)}解除",
            )
        held = [b for b in self.bookings.values() if b.state not in FREED]
        other = next(
            (b for b in held if overlaps((start, end), (b.start, b.end))), None
        )
        if other is not None:
            raise BookingConflict(
                f"该时段已被预约（{chinese_time(other.start, start.tzinfo)}至"
                f"{chinese_time(other.end, start.tzinfo)}），请选择其他时段"
            )
        self._booking_requested(booking_id, requester, start, end, now)
        return self.bookings[booking_id].as_dict()

    @event("BookingRequested")
    def _booking_requested(self, booking_id, requester, start, end, requested_at):
        self.bookings[booking_id] = Booking(
            booking_id, requester, start, end, requested_at
        )

    def _update(self, booking_id: str, **changes: Any) -> None:
        vars(self.bookings[booking_id]).update(changes)

    def _expect(self, booking_id: str, *states: str) -> Booking:
        if not isinstance(booking_id, str) or booking_id not in self.bookings:
            raise ValidationFailed.single("booking_id", "没有这个预约")
        booking = self.bookings[booking_id]
        if booking.state not in states:
            allowed = "、".join(STATES[s] for s in states)
            raise ValidationFailed.single(
                "booking_id",
                f"预约当前为{STATES[booking.state]}，只有{allowed}的预约可以办理",
            )
        return booking

    def approve(self, booking_id: str, staff_id: str, now: datetime) -> dict:
        booking = self._expect(booking_id, "requested")
        staff_id = require_text(staff_id, "staff_id", "审批人员")
        if aware(now, "now") > booking.start + self.rules.grace:
            raise ValidationFailed.single("booking_id", "预约时段已过，无法批准")
        self._booking_approved(booking_id, staff_id)
        return booking.as_dict()

    @event("BookingApproved")
    def _booking_approved(self, booking_id: str, staff_id: str) -> None:
        self._update(booking_id, state="approved", decided_by=staff_id)

    def reject(self, booking_id: str, staff_id: str, reason: str) -> dict:
        booking = self._expect(booking_id, "requested")
        staff_id = require_text(staff_id, "staff_id", "审批人员")
        self._booking_rejected(
            booking_id, staff_id, require_text(reason, "reason", "驳回理由")
        )
        return booking.as_dict()

    @event("BookingRejected")
    def _booking_rejected(self, booking_id, staff_id, reason) -> None:
        self._update(booking_id, state="rejected", decided_by=staff_id, reason=reason)

    def cancel(self, booking_id: str, by: str, now: datetime, reason: str = "") -> dict:
        booking = self._expect(booking_id, "requested", "approved")
        by = require_text(by, "by", "取消人")
        if aware(now, "now") >= booking.start:
            raise ValidationFailed.single("booking_id", "预约已开始，不能取消")
        self._booking_cancelled(booking_id, by, str(reason or ""))
        return booking.as_dict()

    @event("BookingCancelled")
    def _booking_cancelled(self, booking_id, by, reason) -> None:
        self._update(booking_id, state="cancelled", decided_by=by, reason=reason)

    def check_in(self, booking_id: str, now: datetime) -> dict:
        booking = self._expect(booking_id, "approved")
        now = aware(now, "now")
        opens = booking.start - timedelta(minutes=self.rules.check_in_opens_minutes)
        if now < opens:
            when = chinese_time(opens, now.tzinfo)
            raise ValidationFailed.single("now", f"尚未到签到时间，最早可于{when}签到")
        if now > booking.start + self.rules.grace:
            raise ValidationFailed.single(
                "now",
                f"已超过签到时限（开始后{self.rules.grace_minutes}分钟），按爽约处理",
            )
        self._checked_in(booking_id, now)
        return booking.as_dict()

    @event("CheckedIn")
    def _checked_in(self, booking_id: str, at: datetime) -> None:
        self._update(booking_id, state="checked_in", checked_in_at=at)

    def check_out(self, booking_id: str, actual_end: datetime) -> dict:
        """Record the actual end of use; past end + grace it is an overrun."""
        booking = self._expect(booking_id, "checked_in")
        if aware(actual_end, "actual_end") <= booking.checked_in_at:
            raise ValidationFailed.single("actual_end", "实际结束时间应晚于签到时间")
        self._checked_out(booking_id, actual_end)
        if actual_end > booking.end + self.rules.grace:
            minutes = int((actual_end - booking.end).total_seconds() // 60)
            self._overrun_recorded(booking_id, booking.requester, minutes, actual_end)
        return booking.as_dict()

    @event("CheckedOut")
    def _checked_out(self, booking_id: str, actual_end: datetime) -> None:
        self._update(booking_id, state="checked_out", checked_out_at=actual_end)

    @event("OverrunRecorded")
    def _overrun_recorded(self, booking_id, requester, minutes, at) -> None:
        self._update(booking_id, overrun_minutes=minutes)
        self.violations.append((requester, at, "overrun", booking_id))

    def record_no_show(self, booking_id: str, now: datetime) -> dict:
        booking = self._expect(booking_id, "approved")
        deadline = booking.start + self.rules.grace
        if aware(now, "now") <= deadline:
            raise ValidationFailed.single("now", "签到时限未过，尚不能记为爽约")
        self._no_show_recorded(booking_id, booking.requester, deadline)
        return booking.as_dict()

    def record_no_shows(self, now: datetime) -> list[str]:
        """Every approved booking not checked in by start + grace becomes a no-show."""
        now, grace = aware(now, "now"), self.rules.grace
        late = [
            b.id
            for b in self.bookings.values()
            if b.state == "approved" and now > b.start + grace
        ]
        for booking_id in late:
            self.record_no_show(booking_id, now)
        return late

    @event("NoShowRecorded")
    def _no_show_recorded(self, booking_id, requester, at) -> None:
        self._update(booking_id, state="no_show")
        self.violations.append((requester, at, "no_show", booking_id))

    # -- utilisation ----------------------------------------------------------

    def utilisation(self, start: datetime, end: datetime) -> float:
        """Hours in use / open slot hours within [start, end); 0.0 if none open.

        Use runs from the later of check-in and booked start to check-out (the
        booked end while still checked in), counted only inside open slots.
        """
        start, end = interval(start, end)
        open_hours = hours_within(self.slots, start, end)
        if not open_hours:
            return 0.0
        uses = merge(
            (max(b.checked_in_at, b.start), b.checked_out_at or b.end)
            for b in self.bookings.values()
            if b.checked_in_at is not None
        )
        used = sum(
            hours_within(self.slots, max(s, start), min(e, end))
            for s, e in uses
            if max(s, start) < min(e, end)
        )
        return used / open_hours


# -- who may act (checked here as well as at the gateway) ----------------------

BOOKERS = frozenset({"staff", "manager"})  # an institution's own people
TRUSTED = "system"  # another service or an operator's script, not a person


def keeps(instrument: Instrument, actor: Actor) -> bool:
    """The owner institution's people and the platform's admin keep it."""
    if actor.role == "admin":
        return True
    return (
        actor.role in BOOKERS
        and bool(actor.institution)
        and actor.institution == instrument.owner_id
    )


def require_keeper(instrument: Instrument, actor: Actor) -> None:
    if actor.role != TRUSTED and not keeps(instrument, actor):
        raise ValidationFailed.single("role", "只有仪器所属机构可以办理此操作")


def require_booking_side(
    instrument: Instrument, actor: Actor, action: str, booking_id: Any
) -> None:
    """Keepers decide, check in and out; the booking's institution may only
    cancel it; to anyone else the booking does not exist."""
    if actor.role == TRUSTED or keeps(instrument, actor):
        return
    own = isinstance(booking_id, str) and booking_id in instrument.bookings
    booking = instrument.bookings[booking_id] if own else None
    if (
        booking is None
        or actor.role not in BOOKERS
        or booking.requester != actor.institution
    ):
        raise NotFound(f"booking {booking_id}")
    if action != "cancel":
        raise ValidationFailed.single(
            "role", "预约机构只能取消预约，审批、签到和签退由仪器所属机构办理"
        )


def require_own_request(actor: Actor, requester: Any) -> None:
    """A person books for their own institution, never in another's name."""
    if actor.role == TRUSTED:
        return
    if actor.role not in BOOKERS or requester != actor.institution:
        raise ValidationFailed.single("requester", "只能以本机构的名义预约")


# -- commands on a stored instrument ------------------------------------------


def load(app: ServiceApplication, instrument_id: Any) -> Instrument:
    return app.get_existing(instrument_id, Instrument, "instrument")


def change(app: ServiceApplication, instrument_id: Any, command: Callable[..., T]) -> T:
    """Load, apply ``command(instrument)``, save; retried on fresh state.

    Any command: ``change(app, instrument_id, lambda i: i.approve(b, staff, now))``
    returns what the command returns (a booking's summary for booking commands).
    """

    def attempt() -> T:
        instrument = load(app, instrument_id)
        result = command(instrument)
        app.save(instrument)
        return result

    return app.retry_on_conflict(attempt)


def request_booking(
    app: ServiceApplication, instrument_id, booking_id, requester, start, end, now
) -> dict:
    """Request a booking (load, request, save, retried on a version conflict).

    Of two concurrent requests for overlapping intervals the one that saves
    second is retried on fresh state, sees the overlap and gets
    ``BookingConflict``; ``ValidationFailed`` names a bad field.
    """
    return change(
        app,
        instrument_id,
        lambda i: i.request_booking(booking_id, requester, start, end, now),
    )

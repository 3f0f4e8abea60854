"""Service venues (5.1, 5.2.1.1) and the equipment kept at them (5.1.6, 5.1.7).

A venue is a one-stop window or a physical site of an institution, with its
weekly opening hours and the clause-6 items it accepts. Its office, electronic
and safety equipment is checked and maintained on a schedule; an item is
overdue the day after its next check falls due. Dates travel in events as ISO
text and are dates in aggregate state; "today" is passed in, never read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.catalog.rules import dated_reason, item_codes
from shared.application import AuditedAggregate
from shared.calendar import SHANGHAI
from shared.errors import ValidationFailed
from shared.qualification import covers
from shared.validation import (
    Errors,
    optional_text,
    require_choice,
    require_day,
    require_phone,
    require_text,
)

# opening hours are China Standard Time
CST = SHANGHAI
VENUE_KINDS = {"window": "服务窗口", "site": "服务场所"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = {d: "星期" + n for d, n in zip(DAYS, "一二三四五六日", strict=True)}
EQUIPMENT_CATEGORIES = {
    "office": "办公设备",
    "electronic": "电子信息服务设备",
    "fire": "消防器材",
    "emergency_light": "应急照明灯",
    "safety_sign": "消防标志",
    "convenience": "便民服务设施",
}
CHECK_RESULTS = {"ok": "正常", "needs_repair": "需维修", "out_of_service": "停用"}
TIME_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def venue_id(institution_id: str, name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"qi-onestop:venue:{institution_id}:{name}")


def equipment_id(venue_id: str, asset_no: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"qi-onestop:equipment:{venue_id}:{asset_no}")


def spans(ranges: Iterable[str]) -> list[tuple[int, int]]:
    """Ranges like 08:30-12:00 as minutes of the day: (510, 720)."""
    result = []
    for text in ranges:
        h1, m1, h2, m2 = (int(g) for g in TIME_RANGE.match(text).groups())
        result.append((h1 * 60 + m1, h2 * 60 + m2))
    return result


def parse_hours(hours) -> dict[str, list[str]]:
    """Opening hours for all seven days; a day left out (or empty) is closed.

    Each range is HH:MM-HH:MM and ends after it starts; a day's ranges are in
    order and do not overlap (one may start when the previous ends).
    """
    if not isinstance(hours, dict):
        msg = '营业时间应按星期填写，如 {"mon": ["08:30-12:00"]}'
        raise ValidationFailed.single("hours", msg)
    errors = Errors()
    for key in sorted(set(hours) - set(WEEKDAYS), key=str):
        errors.add(f"hours.{key}", "星期应为：" + "、".join(WEEKDAYS))
    result: dict[str, list[str]] = {}
    for day, label in WEEKDAYS.items():
        ranges = result[day] = hours.get(day) or []
        if not isinstance(ranges, list):
            errors.add(f"hours.{day}", f"{label}应为时段列表")
            continue
        previous_end = None
        for i, text in enumerate(ranges):
            field = f"hours.{day}[{i}]"
            if not isinstance(text, str) or not TIME_RANGE.match(text):
                errors.add(field, "时段应为 HH:MM-HH:MM，如 08:30-12:00")
                continue
            ((start, end),) = spans([text])
            if end <= start:
                errors.add(field, "结束时间应晚于开始时间")
            elif previous_end is not None and start < previous_end:
                errors.add(field, f"{label}的时段应按先后排列且不重叠")
            else:
                previous_end = end
    if not errors and not any(result.values()):
        errors.add("hours", "请至少填写一个营业时段")
    errors.raise_if_any()
    return {day: list(ranges) for day, ranges in result.items()}


# -- venues -----------------------------------------------------------------


class Venue(AuditedAggregate):
    """A one-stop service window or site of an institution (5.1.1, 5.2.1.1)."""

    @staticmethod
    def create_id(institution_id: str, name: str) -> UUID:
        return venue_id(institution_id, name)

    @classmethod
    def open(
        cls, institution_id, kind, name, address, hours, accepts, contact_phone
    ) -> Venue:
        errors = Errors()
        institution_id = errors.check(
            require_text, institution_id, "institution_id", "所属机构", 64
        )
        errors.check(require_choice, kind, "kind", "场所类别", VENUE_KINDS)
        name = errors.check(require_text, name, "name", "场所名称", 100)
        address = errors.check(require_text, address, "address", "地址", 200)
        # A window exists to accept items (5.1.1); a site may only host them.
        codes = item_codes(errors, "accepts", accepts, required=kind == "window")
        contact_phone = errors.check(require_phone, contact_phone, "contact_phone")
        hours = errors.check(parse_hours, hours)
        errors.raise_if_any()
        return cls(institution_id, kind, name, address, hours, codes, contact_phone)

    @event("Opened")
    def __init__(
        self, institution_id, kind, name, address, hours, accepts, contact_phone
    ):
        self.institution_id = institution_id
        self.kind = kind
        self.name = name
        self.address = address
        self.hours = {day: list(ranges) for day, ranges in hours.items()}
        self.accepts = list(accepts)
        self.contact_phone = contact_phone
        self.closed_on: date | None = None
        self.close_reason = ""

    def _expect_open(self) -> None:
        if self.closed_on is not None:
            raise ValidationFailed.single("venue", "该场所已关闭，不能再变更")

    def change_hours(self, hours) -> None:
        self._expect_open()
        hours = parse_hours(hours)
        if hours == self.hours:
            raise ValidationFailed.single("hours", "营业时间没有变化")
        self._hours_changed(hours)

    @event("HoursChanged")
    def _hours_changed(self, hours) -> None:
        self.hours = {day: list(ranges) for day, ranges in hours.items()}

    def change_accepted_items(self, accepts) -> None:
        self._expect_open()
        errors = Errors()
        codes = item_codes(errors, "accepts", accepts, self.kind == "window")
        errors.raise_if_any()
        if codes == self.accepts:
            raise ValidationFailed.single("accepts", "受理事项没有变化")
        self._accepted_items_changed(codes)

    @event("AcceptedItemsChanged")
    def _accepted_items_changed(self, accepts) -> None:
        self.accepts = list(accepts)

    def close(self, closed_on, reason: str) -> None:
        """Close the venue from ``closed_on`` on (that day included)."""
        self._expect_open()
        day, why = dated_reason("closed_on", closed_on, "关闭日期", reason, "关闭原因")
        self._closed(day.isoformat(), why)

    @event("Closed")
    def _closed(self, closed_on: str, reason: str) -> None:
        self.closed_on = date.fromisoformat(closed_on)
        self.close_reason = reason

    def accepts_item(self, code: str) -> bool:
        return covers(self.accepts, code)

    def is_open_at(self, moment: datetime) -> bool:
        """Open within a range of the weekday: its start included, its end not.

        An aware ``moment`` is read in China Standard Time, a naive one as
        local wall-clock time; from the closing day on the venue is closed.
        """
        if not isinstance(moment, datetime):
            raise ValidationFailed.single("moment", "应为日期时间")
        local = moment.astimezone(CST) if moment.utcoffset() is not None else moment
        if self.closed_on is not None and local.date() >= self.closed_on:
            return False
        minute = local.hour * 60 + local.minute
        day = DAYS[local.weekday()]
        return any(start <= minute < end for start, end in spans(self.hours[day]))


# -- equipment --------------------------------------------------------------


def check_interval(interval_days) -> int:
    if type(interval_days) is not int or not 1 <= interval_days <= 730:
        raise ValidationFailed.single("interval_days", "检查周期应为1到730天的整数")
    return interval_days


class Equipment(AuditedAggregate):
    """Office, electronic or safety equipment at a venue, checked periodically."""

    @staticmethod
    def create_id(venue_id: str, asset_no: str) -> UUID:
        return equipment_id(venue_id, asset_no)

    @classmethod
    def register(
        cls, venue_id, name, category, asset_no, interval_days, last_checked
    ) -> Equipment:
        errors = Errors()
        venue_id = str(venue_id) if isinstance(venue_id, UUID) else venue_id
        venue_id = errors.check(require_text, venue_id, "venue_id", "所在场所", 64)
        name = errors.check(require_text, name, "name", "设备名称", 100)
        errors.check(
            require_choice, category, "category", "设备类别", EQUIPMENT_CATEGORIES
        )
        asset_no = errors.check(require_text, asset_no, "asset_no", "资产编号", 60)
        errors.check(check_interval, interval_days)
        day = errors.check(require_day, last_checked, "last_checked", "上次检查日期")
        errors.raise_if_any()
        return cls(venue_id, name, category, asset_no, interval_days, day.isoformat())

    @event("Registered")
    def __init__(self, venue_id, name, category, asset_no, interval_days, last_checked):
        self.venue_id = venue_id
        self.name = name
        self.category = category
        self.asset_no = asset_no
        self.interval_days = interval_days
        self.last_checked = date.fromisoformat(last_checked)
        self.condition = "ok"  # the result of the latest check
        self.checks: list[dict] = []
        self.retired_on: date | None = None
        self.retire_reason = ""

    def _expect_in_service(self) -> None:
        if self.retired_on is not None:
            raise ValidationFailed.single("equipment", "该设备已报废，不能再变更")

    def check(self, checked_on, result: str, by: str, note: str = "") -> None:
        """Record an inspection; the next one falls due ``interval_days`` later."""
        self._expect_in_service()
        errors = Errors()
        day = errors.check(require_day, checked_on, "checked_on", "检查日期")
        if day is not None and day < self.last_checked:
            errors.add("checked_on", "检查日期不能早于上次检查")
        if not isinstance(result, str) or result not in CHECK_RESULTS:
            labels = "、".join(CHECK_RESULTS.values())
            errors.add("result", f"检查结果应为：{labels}")
        by = errors.check(require_text, by, "by", "检查人", 60)
        note = errors.check(optional_text, note, "note", "备注", 500)
        errors.raise_if_any()
        self._checked(day.isoformat(), result, by, note)

    @event("Checked")
    def _checked(self, checked_on: str, result: str, by: str, note: str) -> None:
        self.last_checked = date.fromisoformat(checked_on)
        self.condition = result
        entry = {"checked_on": checked_on, "result": result, "by": by, "note": note}
        self.checks.append(entry)

    def change_schedule(self, interval_days: int) -> None:
        self._expect_in_service()
        check_interval(interval_days)
        if interval_days == self.interval_days:
            raise ValidationFailed.single("interval_days", "检查周期没有变化")
        self._schedule_changed(interval_days)

    @event("ScheduleChanged")
    def _schedule_changed(self, interval_days: int) -> None:
        self.interval_days = interval_days

    def retire(self, retired_on, reason: str) -> None:
        self._expect_in_service()
        day, why = dated_reason(
            "retired_on", retired_on, "报废日期", reason, "报废原因"
        )
        self._retired(day.isoformat(), why)

    @event("Retired")
    def _retired(self, retired_on: str, reason: str) -> None:
        self.retired_on = date.fromisoformat(retired_on)
        self.retire_reason = reason

    def next_due(self) -> date:
        return self.last_checked + timedelta(days=self.interval_days)

    def is_overdue(self, today: date) -> bool:
        """Past its due date (a check on the due date is on time); never if retired."""
        return self.retired_on is None and today > self.next_due()


def overdue(equipment: Iterable[Equipment], today: date) -> list[Equipment]:
    """The equipment overdue for a check on ``today``, longest overdue first."""
    late = [item for item in equipment if item.is_overdue(today)]
    return sorted(late, key=lambda item: (item.next_due(), item.name, item.asset_no))

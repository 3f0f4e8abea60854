"""Bookings of a shared instrument (6.7) as values: the booking rules, a
booking, aware datetimes, half-open ``[start, end)`` intervals and the
violation block window."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from shared.errors import ValidationFailed
from shared.validation import aware

STATES = {
    "requested": "待审批",
    "approved": "已批准",
    "rejected": "已驳回",
    "cancelled": "已取消",
    "checked_in": "使用中",
    "checked_out": "已完成",
    "no_show": "爽约",
}


@dataclass(frozen=True)
class BookingRules:
    """Per-instrument booking policy, fixed when the instrument is registered."""

    grace_minutes: int = 15
    check_in_opens_minutes: int = 30
    violation_threshold: int = 2
    violation_window_days: int = 90
    block_days: int = 30

    @classmethod
    def parse(cls, data: dict | None) -> BookingRules:
        data = dict(data or {})
        unknown = set(data) - {f.name for f in fields(cls)}
        errors = [{"field": f"rules.{k}", "message": "未知的预约规则"} for k in unknown]
        for name in set(data) - unknown:
            value = data[name]
            if type(value) is not int or value < (0 if "minutes" in name else 1):
                errors.append({"field": f"rules.{name}", "message": "应为正整数"})
        if errors:
            raise ValidationFailed(errors)
        return cls(**data)

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.grace_minutes)


@dataclass
class Booking:
    id: str
    requester: str
    start: datetime
    end: datetime
    requested_at: datetime
    state: str = "requested"
    decided_by: str = ""
    reason: str = ""
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    overrun_minutes: int = 0

    def as_dict(self) -> dict:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return {**data, "state_label": STATES[self.state]}


def interval(start: Any, end: Any, prefix: str = "") -> tuple[datetime, datetime]:
    start, end = aware(start, f"{prefix}start"), aware(end, f"{prefix}end")
    if end <= start:
        raise ValidationFailed.single(f"{prefix}end", "结束时间应晚于开始时间")
    return start, end


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    """Half-open intervals: one ending when the other starts do not overlap."""
    return a[0] < b[1] and b[0] < a[1]


def merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple]:
    """The union of intervals, sorted; touching intervals are joined."""
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def hours_within(intervals: Iterable[tuple], start: datetime, end: datetime) -> float:
    """Hours of the (disjoint) intervals that fall inside [start, end)."""
    seconds = sum(
        max(0.0, (min(e, end) - max(s, start)).total_seconds()) for s, e in intervals
    )
    return seconds / 3600


def block_end(times: Iterable[datetime], now: datetime, rules: BookingRules):
    """When the block running at ``now`` ends, or None if there is none.

    Each violation that brings the count within ``violation_window_days`` to
    ``violation_threshold`` or more starts a block of ``block_days`` from it.
    """
    window, block = timedelta(days=rules.violation_window_days), None
    past = sorted(t for t in times if t <= now)
    for i, at in enumerate(past):
        recent = sum(1 for earlier in past[: i + 1] if earlier > at - window)
        ends = at + timedelta(days=rules.block_days)
        if recent >= rules.violation_threshold and ends > now:
            block = max(block or ends, ends)
    return block


def chinese_time(moment: datetime, tz) -> str:
    local = moment.astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"

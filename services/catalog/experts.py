"""Experts the platform coordinates to serve a request (5.2.2 c).

An expert covers the clause-6 items listed as fields of expertise and their
sub-items (6.3 covers 6.3.2). Unavailability (leave, or already booked) is a
list of date ranges, both ends included, that never overlap; a retired expert
is unavailable from the retirement date on. ``match_experts`` ranks who can
take an item on a day: an exact sub-item match before a parent match, then by
name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from eventsourcing.domain import event

from services.catalog.rules import ITEM_CODE, dated_reason, item_codes
from shared.application import AuditedAggregate
from shared.errors import ValidationFailed
from shared.qualification import covers
from shared.validation import (
    Errors,
    optional_email,
    optional_phone,
    optional_text,
    require_choice,
    require_day,
    require_text,
)

UNAVAILABLE_REASONS = {"leave": "休假", "booked": "已有安排"}


def check_specialities(errors: Errors, specialities) -> list[str]:
    """Free-text specialities: short, non-empty, de-duplicated, in given order."""
    items = specialities if isinstance(specialities, list | tuple) else None
    if items is None or not all(isinstance(s, str) and s.strip() for s in items):
        errors.add("specialities", '专长应为文字列表，如 ["食品微生物检验"]')
        return []
    if any(len(s.strip()) > 50 for s in items):
        errors.add("specialities", "每项专长不能超过50个字")
    return list(dict.fromkeys(s.strip() for s in items))


class Expert(AuditedAggregate):
    """An expert who can be coordinated to serve clause-6 items (5.2.2 c)."""

    @classmethod
    def register(
        cls,
        name: str,
        fields: list[str],
        title: str,
        phone: str = "",
        email: str = "",
        specialities: Iterable[str] = (),
        institution_id: str | None = None,
    ) -> Expert:
        errors = Errors()
        name = errors.check(require_text, name, "name", "专家姓名", 30)
        codes = item_codes(errors, "fields", fields, required=True)
        specialities = check_specialities(errors, list(specialities or []))
        title = errors.check(require_text, title, "title", "职称", 30)
        phone = errors.check(optional_phone, phone, "phone")
        email = errors.check(optional_email, email, "email")
        if phone == "" and email == "":  # none given: no way to reach the expert
            errors.add("phone", "请至少填写联系电话或电子邮箱之一")
        if institution_id is not None:
            institution_id = errors.check(
                require_text, institution_id, "institution_id", "所属机构", 64
            )
        errors.raise_if_any()
        return cls(
            name,
            institution_id,
            codes,
            specialities,
            title,
            phone,
            email,
        )

    @event("Registered")
    def __init__(self, name, institution_id, fields, specialities, title, phone, email):
        self.name = name
        self.institution_id = institution_id
        self.fields = list(fields)
        self.specialities = list(specialities)
        self.title = title
        self.phone = phone
        self.email = email
        self.unavailable: list[dict] = []  # {start, end, reason, note}, by start
        self.retired_on: date | None = None
        self.retire_reason = ""

    def _expect_active(self) -> None:
        if self.retired_on is not None:
            raise ValidationFailed.single("expert", "该专家已退出，不能再变更")

    def change_fields(self, fields: list[str], specialities: Iterable[str]) -> None:
        self._expect_active()
        errors = Errors()
        codes = item_codes(errors, "fields", fields, required=True)
        specialities = check_specialities(errors, list(specialities or []))
        errors.raise_if_any()
        if codes == self.fields and specialities == self.specialities:
            raise ValidationFailed.single("fields", "专业领域没有变化")
        self._fields_changed(codes, specialities)

    @event("FieldsChanged")
    def _fields_changed(self, fields: list[str], specialities: list[str]) -> None:
        self.fields = list(fields)
        self.specialities = list(specialities)

    # -- availability -----------------------------------------------------

    def add_unavailability(self, start, end, reason: str, note: str = "") -> None:
        """Mark ``start``..``end`` (both included) unavailable: on leave or booked."""
        self._expect_active()
        errors = Errors()
        first = errors.check(require_day, start, "start", "开始日期")
        last = errors.check(require_day, end, "end", "结束日期")
        if first and last and last < first:
            errors.add("end", "结束日期不能早于开始日期")
        errors.check(
            require_choice, reason, "reason", "不可用原因", UNAVAILABLE_REASONS
        )
        note = errors.check(optional_text, note, "note", "备注", 200)
        errors.raise_if_any()
        clash = next(
            (p for p in self.unavailable if p["start"] <= last and first <= p["end"]),
            None,
        )
        if clash is not None:
            span = f"{clash['start']}至{clash['end']}"
            raise ValidationFailed.single(
                "start", f"与已登记的不可用时段（{span}）重叠"
            )
        self._unavailability_added(first.isoformat(), last.isoformat(), reason, note)

    @event("UnavailabilityAdded")
    def _unavailability_added(self, start: str, end: str, reason: str, note: str):
        period = {
            "start": date.fromisoformat(start),
            "end": date.fromisoformat(end),
            "reason": reason,
            "note": note,
        }
        self.unavailable = sorted([*self.unavailable, period], key=lambda p: p["start"])

    def remove_unavailability(self, start, end) -> None:
        """Withdraw a registered period, named by its exact start and end."""
        self._expect_active()
        errors = Errors()
        first = errors.check(require_day, start, "start", "开始日期")
        last = errors.check(require_day, end, "end", "结束日期")
        errors.raise_if_any()
        if not any(p["start"] == first and p["end"] == last for p in self.unavailable):
            raise ValidationFailed.single("start", "没有登记这个不可用时段")
        self._unavailability_removed(first.isoformat(), last.isoformat())

    @event("UnavailabilityRemoved")
    def _unavailability_removed(self, start: str, end: str) -> None:
        key = (date.fromisoformat(start), date.fromisoformat(end))
        self.unavailable = [
            p for p in self.unavailable if (p["start"], p["end"]) != key
        ]

    def retire(self, retired_on, reason: str) -> None:
        self._expect_active()
        day, why = dated_reason(
            "retired_on", retired_on, "退出日期", reason, "退出原因"
        )
        self._retired(day.isoformat(), why)

    @event("Retired")
    def _retired(self, retired_on: str, reason: str) -> None:
        self.retired_on = date.fromisoformat(retired_on)
        self.retire_reason = reason

    def available_on(self, day: date) -> bool:
        if self.retired_on is not None and day >= self.retired_on:
            return False
        return not any(p["start"] <= day <= p["end"] for p in self.unavailable)

    def coverage(self, item_code: str) -> int | None:
        """0 for an exact match, 1 when a parent item is listed, else None."""
        if item_code in self.fields:
            return 0
        return 1 if covers(self.fields, item_code) else None


def match_experts(experts: Iterable[Expert], item_code: str, day: date) -> list[Expert]:
    """Available experts covering ``item_code`` on ``day``, best first.

    An expert listing the item itself ranks before one listing its parent item
    (6.3.2 before 6.3); ties go by name, then id, so the order is stable.
    """
    if not isinstance(item_code, str) or not ITEM_CODE.match(item_code):
        raise ValidationFailed.single("item_code", "应为第6章服务事项编码，如 6.3.2")
    ranked = []
    for expert in experts:
        rank = expert.coverage(item_code)
        if rank is not None and expert.available_on(day):
            ranked.append((rank, expert.name, str(expert.id), expert))
    return [expert for *_, expert in sorted(ranked, key=lambda r: r[:3])]

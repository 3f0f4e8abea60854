"""Validation helpers of the catalog: each appends {field, message} errors in
Chinese, so one answer names every bad field (see shared.errors)."""

from __future__ import annotations

import re
from datetime import date, datetime

from shared.errors import ValidationFailed

# Service items are clause 6's items and sub-items: 6.1 … 6.10, 6.3.2, …
ITEM_CODE = re.compile(r"^6\.(10|[1-9])(\.\d{1,2})?$")
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|[48]00-?\d{3}-?\d{4})$")


def check_text(errors, field, value, label, max_len, required=True) -> None:
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append({"field": field, "message": f"请填写{label}"})
    elif len(value) > max_len:
        errors.append({"field": field, "message": f"{label}不能超过{max_len}个字"})


def as_date(errors, field, value, label) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.append({"field": field, "message": f"{label}应为日期，如 2026-05-31"})
        return None


def bad(errors: list, field: str, message: str) -> None:
    errors.append({"field": field, "message": message})


def refuse(errors: list) -> None:
    if errors:
        raise ValidationFailed(errors)


def one_of(errors: list, field: str, value, choices: dict, label: str) -> None:
    if value not in choices:
        bad(errors, field, f"{label}应为：" + "、".join(choices))


def check_phone(errors: list, field: str, value, required: bool = True) -> None:
    if (value is None or value == "") and not required:
        return
    if not isinstance(value, str) or not PHONE.match(value.strip()):
        bad(errors, field, "联系电话应为手机号或带区号的固定电话，如 025-83210000")


def as_day(errors: list, field: str, value, label: str) -> date | None:
    """A calendar date (or ISO text); a datetime is refused, not truncated."""
    if isinstance(value, datetime):
        bad(errors, field, f"{label}应为日期，不含时间")
        return None
    return as_date(errors, field, value, label)


def code_key(code: str) -> tuple[int, ...]:
    """Sort key for clause-6 codes: 6.2 before 6.10."""
    return tuple(int(part) for part in code.split("."))


def item_codes(errors: list, field: str, codes, required: bool) -> list[str]:
    """Checked, de-duplicated clause-6 item codes in clause order."""
    good = isinstance(codes, list | tuple)
    good = good and all(isinstance(c, str) and ITEM_CODE.match(c) for c in codes)
    if not good or (required and not codes):
        bad(errors, field, "应列出第6章服务事项编码，如 6.3、6.4.3")
        return []
    return sorted(set(codes), key=code_key)


def known_fields(form: object, allowed: tuple[str, ...]) -> dict:
    """The form, if it is an object with only known fields (no mass assignment);
    otherwise every unknown field is named."""
    if not isinstance(form, dict):
        raise ValidationFailed.single("body", "请求内容应为 JSON 对象")
    unknown = sorted(set(form) - set(allowed))
    if unknown:
        raise ValidationFailed(
            [{"field": f, "message": "不认识的字段"} for f in unknown]
        )
    return form


def dated_reason(field: str, value, label: str, reason, reason_label: str):
    """A change that takes effect on a date and needs a reason: (day, reason)."""
    errors: list[dict] = []
    day = as_day(errors, field, value, label)
    check_text(errors, "reason", reason, reason_label, 500)
    refuse(errors)
    return day, reason.strip()

"""Checks of the catalog's own values (clause 6's item codes, forms of known
fields); the field checks themselves are the kernel's (``shared.validation``)."""

from __future__ import annotations

import re

from shared.errors import ValidationFailed
from shared.validation import Errors, require_day, require_text

# Service items are clause 6's items and sub-items: 6.1 … 6.10, 6.3.2, …
ITEM_CODE = re.compile(r"^6\.(10|[1-9])(\.\d{1,2})?$")


def code_key(code: str) -> tuple[int, ...]:
    """Sort key for clause-6 codes: 6.2 before 6.10."""
    return tuple(int(part) for part in code.split("."))


def item_codes(errors: Errors, field: str, codes, required: bool) -> list[str]:
    """Checked, de-duplicated clause-6 item codes in clause order."""
    good = isinstance(codes, list | tuple)
    good = good and all(isinstance(c, str) and ITEM_CODE.match(c) for c in codes)
    if not good or (required and not codes):
        errors.add(field, "应列出第6章服务事项编码，如 6.3、6.4.3")
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
    errors = Errors()
    day = errors.check(require_day, value, field, label)
    reason = errors.check(require_text, reason, "reason", reason_label, 500)
    errors.raise_if_any()
    return day, reason

"""Vocabulary and small checks of intake's rules."""

from __future__ import annotations

from shared.errors import ValidationFailed

REVIEW_POINTS = {
    "capability": "能力",
    "method": "方法",
    "cycle": "周期",
    "fee": "费用",
}

# outcome: (label, status after the decision)
OUTCOMES = {
    "answered": ("即时答复", "resolved"),
    "in_house": ("自主服务", "in_service"),
    "referred": ("登记分类转办", "referred"),
}


def require_text(value, field: str, label: str, max_len: int = 200) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.single(field, f"请填写{label}")
    if len(value) > max_len:
        raise ValidationFailed.single(field, f"{label}不能超过{max_len}个字")

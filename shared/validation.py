"""Field checks shared by the domain models: each failure names its field, in
Chinese, and raises before anything is stored."""

from __future__ import annotations

from datetime import datetime

from shared.errors import ValidationFailed


def require_text(value, field: str, label: str, max_len: int = 500) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.single(field, f"请填写{label}")
    if len(value.strip()) > max_len:
        raise ValidationFailed.single(field, f"{label}不能超过{max_len}字")
    return value.strip()


def optional_text(value, field: str, label: str, max_len: int = 500) -> str:
    if value in (None, ""):
        return ""
    return require_text(value, field, label, max_len)


def require_choice(value, field: str, label: str, choices: dict) -> str:
    if value not in choices:
        raise ValidationFailed.single(field, f"{label}应为：" + "、".join(choices))
    return value


def require_status(
    current: str, allowed: tuple[str, ...], action: str, labels: dict, noun: str
) -> None:
    """Refuse a transition not allowed from ``current``, naming ``status``."""
    if current not in allowed:
        now = labels.get(current, current)
        raise ValidationFailed.single("status", f"{noun}当前为“{now}”，不能{action}")


def aware(value, field: str) -> datetime:
    """An aware datetime from a datetime or ISO text."""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed.single(
            field, "应为带时区的时间，如 2026-05-06T09:00:00+08:00"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationFailed.single(field, "时间应带时区")
    return moment

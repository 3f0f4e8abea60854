"""Complaint-handling vocabulary (GB/T 19012 / ISO 10002, GB/T 19013) and checks."""

from __future__ import annotations

from datetime import datetime

from services.intake.registration import CHANNELS as INTAKE_CHANNELS
from shared.errors import ValidationFailed

CHANNELS = {
    **INTAKE_CHANNELS,
    "hotline": "监督热线",
    "suggestion_box": "意见箱",
}
# working days from receipt (the day of receipt does not count)
ACKNOWLEDGE_DAYS = 1
RESPOND_DAYS = 10
CLOSE_DAYS = 30
DEADLINES = {
    "acknowledge": ACKNOWLEDGE_DAYS,
    "respond": RESPOND_DAYS,
    "close": CLOSE_DAYS,
}
LEVELS = {"low": "低", "medium": "中", "high": "高"}
OUTCOMES = {"upheld": "投诉成立", "partly_upheld": "部分成立", "not_upheld": "不成立"}
DISPUTE_METHODS = {
    "mediation": "调解",
    "conciliation": "和解",
    "arbitration": "仲裁",
    "expert_determination": "专家裁定",
}
STATUS_LABELS = {
    "received": "已收到投诉",
    "acknowledged": "已确认受理",
    "assessed": "已完成初步评估",
    "investigating": "调查处理中",
    "decided": "已作出处理决定",
    "communicated": "已告知处理结果",
    "escalated": "内部复核中",
    "reviewed": "已完成内部复核",
    "in_dispute": "已提交外部争议解决",
    "closed": "已办结",
}
IDENTITY_ROLES = frozenset({"complaint_handler", "regulator"})


def require_text(value, field: str, label: str, max_len: int = 500) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.single(field, f"请填写{label}")
    if len(value) > max_len:
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


def require_status(current: str, allowed: tuple[str, ...], action: str) -> None:
    """Refuse a transition not allowed from ``current``, naming ``status``."""
    if current not in allowed:
        now = STATUS_LABELS.get(current, current)
        raise ValidationFailed.single("status", f"投诉当前为“{now}”，不能{action}")


def aware(value, field: str = "received_at") -> datetime:
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


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"

"""Complaint-handling vocabulary (GB/T 19012 / ISO 10002, GB/T 19013) and checks."""

from __future__ import annotations

from datetime import datetime

from services.intake.registration import CHANNELS as INTAKE_CHANNELS
from shared import validation
from shared.validation import optional_text as optional_text  # re-exported
from shared.validation import require_choice as require_choice  # re-exported
from shared.validation import require_text as require_text  # re-exported

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


def require_status(current: str, allowed: tuple[str, ...], action: str) -> None:
    """Refuse a transition not allowed from ``current``, naming ``status``."""
    validation.require_status(current, allowed, action, STATUS_LABELS, "投诉")


def aware(value, field: str = "received_at") -> datetime:
    """An aware datetime from a datetime or ISO text."""
    return validation.aware(value, field)


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"

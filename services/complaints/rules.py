"""Complaint-handling vocabulary (GB/T 19012 / ISO 10002, GB/T 19013) and checks."""

from __future__ import annotations

from services.catalog.contract import POLICY_DEFAULTS
from services.intake.contract import CHANNELS as INTAKE_CHANNELS
from shared import validation
from shared.privacy import mask_name as mask_name  # re-exported: projections.py
from shared.privacy import mask_phone as mask_phone  # re-exported: projections.py

CHANNELS = {
    **INTAKE_CHANNELS,
    "hotline": "监督热线",
    "suggestion_box": "意见箱",
}
# working days from receipt (the day of receipt does not count), each a limit
# of the handling institution's service policy in force when the complaint
# was received (9.4; services.catalog.contract.POLICY_LIMITS): stage -> key
DEADLINE_LIMITS = {
    "acknowledge": "complaint_acknowledge_days",
    "respond": "complaint_respond_days",
    "close": "complaint_close_days",
}
# the policy's defaults: a complaint received before policies were recorded
DEADLINES = {stage: POLICY_DEFAULTS[key] for stage, key in DEADLINE_LIMITS.items()}
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

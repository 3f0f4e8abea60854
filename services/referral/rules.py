"""Referral vocabulary, deadlines and checks (8.3.4, 8.3.5, 7.4.5).

Deadlines are in working days (``shared.calendar``): acceptance counts from the
moment a referral is sent, completion from the moment it is signed for, with the
item's cycle (catalog's ``cycle_days``); the green channel shortens both.
"""

from __future__ import annotations

import math
from datetime import datetime

from shared import validation
from shared.validation import optional_text as optional_text  # re-exported
from shared.validation import require_choice as require_choice  # re-exported
from shared.validation import require_text as require_text  # re-exported

STATUS_LABELS = {
    "requested": "待匹配",
    "matched": "已匹配待派发",
    "sent": "已派发待签收",
    "returned": "已退回",
    "accepted": "已签收",
    "in_progress": "办理中",
    "completed": "已办结（报告已出具）",
    "feedback_delivered": "已反馈首问负责人",
    "on_hold": "已挂起",
    "cancelled": "已撤销",
    "failed": "办理失败",
}
OPEN = ("requested", "matched", "sent", "returned", "accepted", "in_progress")
# addressed to an institution that has not finished with it (its open load)
WITH_PARTNER = ("sent", "accepted", "in_progress", "on_hold")
PROGRESS_STAGES = {
    "sample_received": "已收样",
    "on_site": "现场服务中",
    "testing": "检测中",
    "report_drafting": "报告编制中",
    "report_review": "报告审核中",
}
KINDS = {
    "demand": "需求转办",
    "government": "政府委托任务",  # 5.2.2 b
    "recall": "产品召回技术支持",  # 6.9
}
REQUESTER_KINDS = {
    "customer": "客户",
    "department": "政府部门",
    "regulator": "监管部门",
}
RECALL_ITEM = "6.9"
ASSIGNEE_KINDS = {"institution": "机构", "expert": "专家"}
REPORT_STATUS = {"valid": "有效", "replaced": "已被替换", "revoked": "已撤销"}

# working days to sign for a referral once sent, normal and green channel
ACCEPT_DAYS = 2
GREEN_ACCEPT_DAYS = 1
# the green channel halves the item's cycle (rounded up, at least one day)
GREEN_CYCLE_SHARE = 0.5
# a manager may rule the responsible institution after this many returns,
# or sooner when no untried qualified candidate is left
RULING_AFTER_RETURNS = 2
MAX_EXTENSION_DAYS = 30


def acceptance_days(green_channel: bool) -> int:
    return GREEN_ACCEPT_DAYS if green_channel else ACCEPT_DAYS


def completion_days(cycle_days: int, green_channel: bool) -> int:
    """The item's cycle; under the green channel its share, at least one day."""
    if not green_channel:
        return max(int(cycle_days), 1)
    return max(math.ceil(int(cycle_days) * GREEN_CYCLE_SHARE), 1)


def require_status(current: str, allowed: tuple[str, ...], action: str) -> None:
    """Refuse a transition not allowed from ``current``, naming ``status``."""
    validation.require_status(current, allowed, action, STATUS_LABELS, "转办")


def aware(value, field: str = "now") -> datetime:
    """An aware datetime from a datetime or ISO text."""
    return validation.aware(value, field)

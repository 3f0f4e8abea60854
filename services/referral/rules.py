"""Referral vocabulary, deadlines and checks (8.3.4, 8.3.5, 7.4.5).

Deadlines are in working days (``shared.calendar``): acceptance counts from the
moment a referral is sent, completion from the moment it is signed for, with the
item's cycle (catalog's ``cycle_days``); the green channel shortens both.
"""

from __future__ import annotations

import math

from services.catalog.contract import POLICY_DEFAULTS
from services.referral.contract import STATUS_LABELS
from shared import validation

OPEN = ("requested", "matched", "sent", "returned", "accepted", "in_progress")
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
ACCEPT_DAYS = POLICY_DEFAULTS["referral_accept_days"]  # the policy's default
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

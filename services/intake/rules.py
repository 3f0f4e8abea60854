"""Vocabulary of intake's rules (8.3): contract review points and outcomes."""

from __future__ import annotations

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

# what a staff member writes in a triage decision's details; the rest of the
# decision (outcome, staff, green channel, due date) the command computes
DETAIL_FIELDS = ("answer", "department", "items", "quote_id")

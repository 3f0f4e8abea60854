"""Evaluation vocabulary (9.2.1, Appendix C; 9.2.2; 9.3) and input checks."""

from __future__ import annotations

from datetime import timedelta

from services.catalog.contract import POLICY_DEFAULTS
from services.evaluation.contract import DIMENSIONS, LEVELS
from shared.errors import ValidationFailed
from shared.validation import Errors, optional_text, require_choice, require_text

UNSATISFIED = frozenset({"不满意", "非常不满意"})
# a satisfaction survey is due this many working days after the service ended
SURVEY_WORKING_DAYS = POLICY_DEFAULTS["survey_days"]
# the applicant is reminded this long before the survey's due moment
SURVEY_REMINDER_LEAD = timedelta(days=1)
# working days the customer is called back in after an unsatisfied rating
CALL_BACK_WORKING_DAYS = POLICY_DEFAULTS["call_back_days"]
# default deadline of an improvement item opened by an event (9.3)
IMPROVEMENT_WORKING_DAYS = POLICY_DEFAULTS["improvement_days"]
IMPROVEMENT_SOURCES = {
    "dissatisfaction": "满意度评价不满意",
    "complaint": "投诉纠正措施",
    "efficiency": "人员效能评价",
    "suggestion": "意见卡建议",  # 9.3.1
    "rating_comment": "满意评价中的意见",  # 9.3.1
}
SURVEY_STATUS = {
    "issued": "待评价",
    "rated": "已评价",
    "expired": "已过期",
}
SURVEY_SOURCES = {"demand": "需求办结", "referral": "转办完成"}
OUTCOME_LABELS = {
    "answered": "当场答复",
    "in_house": "本机构办理",
    "referred": "转办",
    "": "未注明",
}


def rating_form(form) -> dict:
    """The survey form checked: overall and every dimension on five levels,
    comments optional; every bad field is named, nothing is stored."""
    if not isinstance(form, dict):
        raise ValidationFailed.single("form", "请填写评价表")
    errors = Errors()
    overall = errors.check(
        require_choice, form.get("overall"), "overall", "总体评价", LEVELS
    )
    given = form.get("dimensions") or {}
    if not isinstance(given, dict):
        given = {}
        errors.add("dimensions", "请逐项评价")
    for key in sorted(set(given) - set(DIMENSIONS), key=str):
        errors.add(f"dimensions.{key}", "没有这一评价项")
    dimensions = {
        key: errors.check(
            require_choice, given.get(key), f"dimensions.{key}", label, LEVELS
        )
        for key, label in DIMENSIONS.items()
    }
    comments = errors.check(
        optional_text, form.get("comments"), "comments", "意见建议", 2000
    )
    errors.raise_if_any()
    return {"overall": overall, "dimensions": dimensions, "comments": comments}


def require_actions(value) -> list[str]:
    """An improvement plan's actions: a non-empty list of short texts."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValidationFailed.single("actions", "请填写整改措施")
    return [require_text(a, "actions", "整改措施", 500) for a in value]

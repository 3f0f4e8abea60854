"""Evaluation vocabulary (9.2.1, Appendix C; 9.2.2; 9.3) and input checks."""

from __future__ import annotations

from datetime import timedelta

from services.complaints.rules import aware, optional_text, require_text
from shared.errors import ValidationFailed

__all__ = ["aware", "optional_text", "require_text"]

# the government five-level rating, best first, with the score averaged
LEVELS = {
    "非常满意": 5,
    "满意": 4,
    "基本满意": 3,
    "不满意": 2,
    "非常不满意": 1,
}
UNSATISFIED = frozenset({"不满意", "非常不满意"})
DIMENSIONS = {
    "attitude": "服务态度",
    "efficiency": "办事效率",
    "professionalism": "专业水平",
    "timeliness": "办理时限",
    "fee_transparency": "收费透明",
    "environment": "服务环境",
}
# a satisfaction survey is due this many working days after the service ended
SURVEY_WORKING_DAYS = 5
# the applicant is reminded this long before the survey's due moment
SURVEY_REMINDER_LEAD = timedelta(days=1)
# working days the customer is called back in after an unsatisfied rating
CALL_BACK_WORKING_DAYS = 2
# default deadline of an improvement item opened by an event (9.3)
IMPROVEMENT_WORKING_DAYS = 20
IMPROVEMENT_SOURCES = {
    "dissatisfaction": "满意度评价不满意",
    "complaint": "投诉纠正措施",
    "efficiency": "人员效能评价",
}
SURVEY_STATUS = {
    "issued": "待评价",
    "rated": "已评价",
    "expired": "已过期",
}
IMPROVEMENT_STATUS = {"open": "整改中", "closed": "已完成"}
SURVEY_SOURCES = {"demand": "需求办结", "referral": "转办完成"}
OUTCOME_LABELS = {
    "answered": "当场答复",
    "in_house": "本机构办理",
    "referred": "转办",
    "": "未注明",
}


def require_level(value, field: str, label: str) -> str:
    if value not in LEVELS:
        raise ValidationFailed.single(field, f"{label}应为：" + "、".join(LEVELS))
    return value


def rating_form(form) -> dict:
    """The survey form checked: overall and every dimension on five levels,
    comments optional; every bad field is named, nothing is stored."""
    if not isinstance(form, dict):
        raise ValidationFailed.single("form", "请填写评价表")
    errors = []
    overall = form.get("overall")
    if overall not in LEVELS:
        errors.append(
            {"field": "overall", "message": "总体评价应为：" + "、".join(LEVELS)}
        )
    given = form.get("dimensions") or {}
    if not isinstance(given, dict):
        given = {}
        errors.append({"field": "dimensions", "message": "请逐项评价"})
    unknown = sorted(set(given) - set(DIMENSIONS))
    for key in unknown:
        errors.append({"field": f"dimensions.{key}", "message": "没有这一评价项"})
    for key, label in DIMENSIONS.items():
        if given.get(key) not in LEVELS:
            errors.append(
                {
                    "field": f"dimensions.{key}",
                    "message": f"{label}应为：" + "、".join(LEVELS),
                }
            )
    comments = form.get("comments") or ""
    if not isinstance(comments, str) or len(comments) > 2000:
        errors.append(
            {"field": "comments", "message": "意见建议应为不超过2000字的文字"}
        )
    if errors:
        raise ValidationFailed(errors)
    return {
        "overall": overall,
        "dimensions": {k: given[k] for k in DIMENSIONS},
        "comments": comments.strip(),
    }


def require_actions(value) -> list[str]:
    """An improvement plan's actions: a non-empty list of short texts."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValidationFailed.single("actions", "请填写整改措施")
    return [require_text(a, "actions", "整改措施", 500) for a in value]

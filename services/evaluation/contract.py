"""Evaluation's published contract: what other services and the gateway may
know of evaluation without importing its domain or application.

The government five-level rating and the dimensions a customer rates (9.2.1,
Appendix C), the states of an improvement item (9.3), the ids of what
evaluation keeps (derived from what caused each, so a reader can name an
improvement item or a half-year summary before asking for it) and the
integration events evaluation publishes. Evaluation's own modules import these
names from here: one definition. This module imports only the standard
library.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

# the government five-level rating, best first, with the score averaged
LEVELS = {
    "非常满意": 5,
    "满意": 4,
    "基本满意": 3,
    "不满意": 2,
    "非常不满意": 1,
}
DIMENSIONS = {
    "attitude": "服务态度",
    "efficiency": "办事效率",
    "professionalism": "专业水平",
    "timeliness": "办理时限",
    "fee_transparency": "收费透明",
    "environment": "服务环境",
}
IMPROVEMENT_STATUS = {"open": "整改中", "closed": "已完成"}


# -- ids ------------------------------------------------------------------------


def derived_id(kind: str, key: str) -> UUID:
    """The id of evaluation's ``kind`` of record caused by ``key``."""
    return uuid5(NAMESPACE_URL, f"qi-onestop:evaluation:{kind}:{key}")


def improvement_item_id(source: str, ref: str) -> UUID:
    """The improvement item (9.3) opened from ``source`` (dissatisfaction,
    complaint, efficiency) by the record ``ref``: one per cause."""
    return derived_id(f"improvement:{source}", ref)


def half_year_summary_id(institution_id: str, year: int, half: int) -> UUID:
    """An institution's summary of one half-year (9.1.3)."""
    return derived_id("half-year", f"{institution_id}:{year}:{half}")


# -- integration events ---------------------------------------------------------
# Versioned; no personal data. The envelope's correlation_id is the demand id
# where there is one.

SOURCE = "evaluation"
# SurveyIssued v1 — data: {survey_id, demand_id, referral_id, institution_id,
# ended_at, due_at}: a notifier sends the applicant the rating link (9.2.1).
SURVEY_ISSUED = ("SurveyIssued", 1)
# SurveyReminded v1 — data: {survey_id, demand_id, due_at}: remind the
# applicant. ``demand_id`` was added later (the survey's case): in older
# messages read the envelope's correlation_id, the same demand.
SURVEY_REMINDED = ("SurveyReminded", 1)
# SatisfactionRated v1 — data: {survey_id, overall, rated_at}.
SATISFACTION_RATED = ("SatisfactionRated", 1)
# ImprovementItemEscalated v1 — data: {item_id, deadline}: overdue (9.3).
IMPROVEMENT_ITEM_ESCALATED = ("ImprovementItemEscalated", 1)
# EfficiencyAssessed v1 — data: {assessment_id, figures} (figures name the
# staff member and the period): the assessment as it stood (9.2.2).
EFFICIENCY_ASSESSED = ("EfficiencyAssessed", 1)
# HalfYearSummarySignedOff v1 — data: {summary_id, manager} (9.1.3).
HALF_YEAR_SUMMARY_SIGNED_OFF = ("HalfYearSummarySignedOff", 1)

"""Integration events evaluation publishes. Versioned; no personal data.

SurveyIssued v1 — data: {survey_id, demand_id, referral_id, institution_id,
  ended_at, due_at}: a notifier sends the applicant the rating link (9.2.1).
SurveyReminded v1 — data: {survey_id, due_at}: remind the applicant.
SatisfactionRated v1 — data: {survey_id, overall, rated_at}.
ImprovementItemEscalated v1 — data: {item_id, deadline}: overdue (9.3).
EfficiencyAssessed v1 — data: {assessment_id, figures} (figures name the
  staff member and the period): the assessment as it stood (9.2.2).
HalfYearSummarySignedOff v1 — data: {summary_id, manager} (9.1.3).
The envelope's correlation_id is the demand id where there is one.
"""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.evaluation.domain import ImprovementItem, Survey
from services.evaluation.records import EfficiencyAssessment, HalfYearSummary
from shared.envelope import Envelope, envelope_for

SOURCE = "evaluation"


def _data(event) -> tuple[str, dict] | None:
    oid = str(event.originator_id)
    if isinstance(event, Survey.Issued):
        return "SurveyIssued", {
            "survey_id": oid,
            "demand_id": event.demand_id,
            "referral_id": event.referral_id,
            "institution_id": event.institution_id,
            "ended_at": event.ended_at,
            "due_at": event.due_at,
        }
    if isinstance(event, Survey.Reminded):
        return "SurveyReminded", {"survey_id": oid, "due_at": event.due_at}
    if isinstance(event, Survey.Rated):
        return "SatisfactionRated", {
            "survey_id": oid,
            "overall": event.overall,
            "rated_at": event.rated_at,
        }
    if isinstance(event, ImprovementItem.Escalated):
        return "ImprovementItemEscalated", {"item_id": oid, "deadline": event.deadline}
    if isinstance(
        event, EfficiencyAssessment.Assessed | EfficiencyAssessment.Reassessed
    ):
        return "EfficiencyAssessed", {
            "assessment_id": oid,
            "figures": dict(event.figures),
        }
    if isinstance(event, HalfYearSummary.SignedOff):
        return "HalfYearSummarySignedOff", {
            "summary_id": oid,
            "manager": event.manager,
        }
    return None


def to_envelope(event: object, notification: Notification) -> Envelope | None:
    found = _data(event)
    if found is None:
        return None
    event_type, data = found
    return envelope_for(SOURCE, event, notification.id, event_type, 1, data)

"""Integration events evaluation publishes: its events as the envelopes of
the schemas named in ``services.evaluation.contract``. No personal data."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.evaluation.contract import (
    EFFICIENCY_ASSESSED,
    HALF_YEAR_SUMMARY_SIGNED_OFF,
    IMPROVEMENT_ITEM_ESCALATED,
    SATISFACTION_RATED,
    SOURCE,
    SURVEY_ISSUED,
    SURVEY_REMINDED,
)
from services.evaluation.domain import ImprovementItem, Survey
from services.evaluation.records import EfficiencyAssessment, HalfYearSummary
from shared.envelope import Envelope, envelope_for


def _data(event) -> tuple[tuple[str, int], dict] | None:
    oid = str(event.originator_id)
    if isinstance(event, Survey.Issued):
        return SURVEY_ISSUED, {
            "survey_id": oid,
            "demand_id": event.demand_id,
            "referral_id": event.referral_id,
            "institution_id": event.institution_id,
            "ended_at": event.ended_at,
            "due_at": event.due_at,
        }
    if isinstance(event, Survey.Reminded):
        case = event.__dict__.get("audit", {}).get("correlation_id", "")
        return SURVEY_REMINDED, {
            "survey_id": oid,
            "demand_id": case if case != oid else "",
            "due_at": event.due_at,
        }
    if isinstance(event, Survey.Rated):
        return SATISFACTION_RATED, {
            "survey_id": oid,
            "overall": event.overall,
            "rated_at": event.rated_at,
        }
    if isinstance(event, ImprovementItem.Escalated):
        return IMPROVEMENT_ITEM_ESCALATED, {"item_id": oid, "deadline": event.deadline}
    if isinstance(
        event, EfficiencyAssessment.Assessed | EfficiencyAssessment.Reassessed
    ):
        return EFFICIENCY_ASSESSED, {
            "assessment_id": oid,
            "figures": dict(event.figures),
        }
    if isinstance(event, HalfYearSummary.SignedOff):
        return HALF_YEAR_SUMMARY_SIGNED_OFF, {
            "summary_id": oid,
            "manager": event.manager,
        }
    return None


def to_envelope(event: object, notification: Notification) -> Envelope | None:
    found = _data(event)
    if found is None:
        return None
    (event_type, version), data = found
    return envelope_for(SOURCE, event, notification.id, event_type, version, data)

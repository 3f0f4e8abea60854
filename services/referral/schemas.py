"""Integration events referral publishes. Versioned; no personal data.

Every envelope's correlation_id is the case (the demand id, or a government or
recall task's own case id), so each step appears in the demand's case history.

ReferralCompleted v1 — data: {referral_id, demand_id, item_code,
  institution_id, sent_at, accepted_at, completed_at, acceptance_due,
  completion_due, on_time, report_no, kind}: the report was issued.
  ``on_time`` is completed_at <= completion_due (after approved extensions);
  times are ISO 8601 with offset. ``institution_id`` is "" for an expert
  without an institution. Evaluation consumes it (timeliness, 9.2.2).
ReferralFeedback v1 — data: {referral_id, demand_id, kind, item_code,
  institution_id, first_responder, report_no, verification_code, on_time,
  summary, delivered_at}: the result, for the demand's first responder
  (intake records it on the demand; closed loop, 8.3.5).
ReferralEscalated v1 — data: {referral_id, demand_id, kind, item_code,
  institution_id, reason, due, detail}: a manager's attention is needed;
  ``reason`` is acceptance_overdue | completion_overdue | unroutable |
  qualification_suspended | qualification_revoked.
"""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.referral.domain import Referral
from shared.envelope import Envelope, envelope_for

SOURCE = "referral"
REFERRAL_COMPLETED = ("ReferralCompleted", 1)
REFERRAL_FEEDBACK = ("ReferralFeedback", 1)
REFERRAL_ESCALATED = ("ReferralEscalated", 1)
COMPLETED_FIELDS = (
    "referral_id",
    "demand_id",
    "item_code",
    "institution_id",
    "sent_at",
    "accepted_at",
    "acceptance_due",
    "completion_due",
    "kind",
)
ESCALATION_REASONS = {
    "acceptance": "acceptance_overdue",
    "completion": "completion_overdue",
    "routing": "unroutable",
}


def _facts(event, fields) -> dict:
    facts = dict(event.facts)
    return {k: facts.get(k, "") for k in fields}


def _completed(event) -> dict:
    return {
        **_facts(event, COMPLETED_FIELDS),
        "completed_at": event.at,
        "on_time": bool(event.on_time),
        "report_no": event.report["report_no"],
    }


def _feedback(event) -> dict:
    fields = (
        "referral_id",
        "demand_id",
        "kind",
        "item_code",
        "institution_id",
        "report_no",
        "verification_code",
    )
    return {
        **_facts(event, fields),
        "first_responder": event.first_responder,
        "on_time": bool(event.facts.get("on_time")),
        "summary": event.summary,
        "delivered_at": event.timestamp.isoformat(),
    }


def _escalated(event) -> dict:
    fields = ("referral_id", "demand_id", "kind", "item_code", "institution_id")
    if isinstance(event, Referral.QualificationFlagged):
        reason, due = f"qualification_{event.change}", event.effective_on
        detail = f"{event.cert_no}: {event.reason}"
        facts = {**dict(event.facts), "institution_id": event.institution_id}
        return {
            **{k: facts.get(k, "") for k in fields},
            "reason": reason,
            "due": due,
            "detail": detail,
        }
    return {
        **_facts(event, fields),
        "reason": ESCALATION_REASONS[event.stage],
        "due": event.due,
        "detail": "",
    }


def to_envelope(event: object, notification: Notification) -> Envelope | None:
    if isinstance(event, Referral.Completed):
        kind, data = REFERRAL_COMPLETED, _completed(event)
    elif isinstance(event, Referral.FeedbackDelivered):
        kind, data = REFERRAL_FEEDBACK, _feedback(event)
    elif isinstance(event, Referral.Escalated | Referral.QualificationFlagged):
        kind, data = REFERRAL_ESCALATED, _escalated(event)
    else:
        return None
    event_type, version = kind
    return envelope_for(SOURCE, event, notification.id, event_type, version, data)

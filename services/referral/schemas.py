"""Integration events referral publishes: its events as the envelopes of
the schemas named in ``services.referral.contract``. No personal data."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.referral.contract import (
    REFERRAL_ACCEPTED,
    REFERRAL_COMPLETED,
    REFERRAL_DUE_SOON,
    REFERRAL_ESCALATED,
    REFERRAL_FEEDBACK,
    REFERRAL_SENT,
    SOURCE,
)
from services.referral.domain import Referral
from shared.envelope import Envelope, envelope_for

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
# what the partner's messages say of the referral (ReferralSent, -Accepted,
# -DueSoon); an event stored before it carried its facts (v1) falls back to
# its case (the demand) and its assignee
FOR_PARTNER = (
    "referral_id",
    "demand_id",
    "kind",
    "item_code",
    "institution_id",
    "assignee_kind",
    "origin_institution",
)
ESCALATION_REASONS = {
    "acceptance": "acceptance_overdue",
    "completion": "completion_overdue",
    "routing": "unroutable",
    "sending": "unsent",
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
        # v2: not the partner's summary, which stays here (issue 18)
        "delivered_at": event.timestamp.isoformat(),
    }


def _for_partner(event, **data) -> dict:
    facts = _facts(event, FOR_PARTNER)
    facts["referral_id"] = str(event.originator_id)
    if not facts["demand_id"]:
        facts["demand_id"] = event.__dict__.get("audit", {}).get("correlation_id", "")
    assignee = dict(getattr(event, "assignee", None) or {})
    if not facts["institution_id"] and not facts["assignee_kind"] and assignee:
        facts["institution_id"] = assignee.get("institution_id", "")
        facts["assignee_kind"] = assignee.get("kind", "")
    return {**facts, **data}


def _escalated(event) -> dict:
    fields = (
        "referral_id",
        "demand_id",
        "kind",
        "item_code",
        "institution_id",
        "origin_institution",
    )
    # v2: not the detail (a qualification flag's reason is an admin's own
    # words), which stays here (issue 18); the certificate's number only
    if isinstance(event, Referral.QualificationFlagged):
        reason, due = f"qualification_{event.change}", event.effective_on
        facts = {**dict(event.facts), "institution_id": event.institution_id}
        return {
            **{k: facts.get(k, "") for k in fields},
            "reason": reason,
            "due": due,
            "cert_no": event.cert_no,
        }
    return {
        **_facts(event, fields),
        "reason": ESCALATION_REASONS[event.stage],
        "due": event.due,
        "cert_no": "",
    }


def to_envelope(event: object, notification: Notification) -> Envelope | None:
    if isinstance(event, Referral.Completed):
        kind, data = REFERRAL_COMPLETED, _completed(event)
    elif isinstance(event, Referral.FeedbackDelivered):
        kind, data = REFERRAL_FEEDBACK, _feedback(event)
    elif isinstance(event, Referral.Escalated | Referral.QualificationFlagged):
        kind, data = REFERRAL_ESCALATED, _escalated(event)
    elif isinstance(event, Referral.Sent):
        data = _for_partner(
            event, sent_at=event.at, acceptance_due=event.acceptance_due
        )
        kind = REFERRAL_SENT
    elif isinstance(event, Referral.Accepted):
        data = _for_partner(
            event, accepted_at=event.at, completion_due=event.completion_due
        )
        kind = REFERRAL_ACCEPTED
    elif isinstance(event, Referral.Reminded):
        kind, data = (
            REFERRAL_DUE_SOON,
            _for_partner(event, stage=event.stage, due=event.due),
        )
    else:
        return None
    event_type, version = kind
    return envelope_for(SOURCE, event, notification.id, event_type, version, data)

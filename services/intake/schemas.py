"""Integration events intake publishes. Versioned; personal data stays home."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.intake.domain import Demand
from shared.envelope import Envelope, envelope_for

SOURCE = "intake"

# DemandRegistered v1 data: {demand_id, channel, institution (receiving the
# demand), needs: [{item_code, description}], registered_at}. No applicant
# name or phone (7.3.3).
DEMAND_REGISTERED = ("DemandRegistered", 1)
# DemandReferred v1 data: {demand_id, items: [item codes], quote_id,
# green_channel, first_responder} — classified and referred at triage (8.3.4).
# first_responder (the owner who decided, 7.4.2) was added later; a reader of
# an older message falls back to the envelope's actor, the same person.
DEMAND_REFERRED = ("DemandReferred", 1)
# DemandResolved v1 data: {demand_id, outcome (answered | in_house | referred),
# resolved_by, resolved_at} — the service ended; evaluation's 5 working days
# for the customer's rating count from resolved_at (9.2.1).
DEMAND_RESOLVED = ("DemandResolved", 1)
# For staff efficiency (9.2.2), who did what and when, without customer data:
# DemandTaken v1 {demand_id, staff_id, taken_at} — first response (7.4.2);
# DemandHandedOver v1 {demand_id, staff_id, at} — the receiver now owns it;
# ContractReviewed v1 {demand_id, staff_id, passed} (5.3.1.2);
# NoticeViolation v1 {demand_id, staff_id, late: [materials]} (7.4.3).
DEMAND_TAKEN = ("DemandTaken", 1)
DEMAND_HANDED_OVER = ("DemandHandedOver", 1)
CONTRACT_REVIEWED = ("ContractReviewed", 1)
NOTICE_VIOLATION = ("NoticeViolation", 1)


def to_envelope(event: object, notification: Notification) -> Envelope | None:
    if isinstance(event, Demand.Registered):
        event_type, version = DEMAND_REGISTERED
        return envelope_for(
            SOURCE,
            event,
            notification.id,
            event_type,
            version,
            {
                "demand_id": str(event.originator_id),
                "channel": event.channel,
                "institution": event.institution,
                "needs": [dict(n) for n in event.needs],
                "registered_at": event.timestamp.isoformat(),
            },
        )
    if isinstance(event, Demand.Decided) and event.outcome == "referred":
        event_type, version = DEMAND_REFERRED
        return envelope_for(
            SOURCE,
            event,
            notification.id,
            event_type,
            version,
            {
                "demand_id": str(event.originator_id),
                "items": list(event.details["items"]),
                "quote_id": event.details.get("quote_id", ""),
                "green_channel": event.details["green_channel"],
                "first_responder": event.staff_id,
            },
        )
    if isinstance(event, Demand.Taken):
        return _staff_action(
            event, notification, DEMAND_TAKEN, taken_at=event.timestamp.isoformat()
        )
    if isinstance(event, Demand.HandoverAccepted):
        return _staff_action(
            event, notification, DEMAND_HANDED_OVER, at=event.timestamp.isoformat()
        )
    if isinstance(event, Demand.ContractReviewed):
        passed = all(event.checks.values())
        return _staff_action(event, notification, CONTRACT_REVIEWED, passed=passed)
    if isinstance(event, Demand.NoticeRefused):
        late = list(event.late)
        return _staff_action(event, notification, NOTICE_VIOLATION, late=late)
    if isinstance(event, Demand.Decided) and event.outcome == "answered":
        return _resolved(event, notification, "answered")
    if isinstance(event, Demand.Resolved):
        return _resolved(event, notification, event.outcome)
    return None


def _resolved(event, notification: Notification, outcome: str) -> Envelope:
    """Answered at once (8.3.1) ends the service as much as a later resolution."""
    event_type, version = DEMAND_RESOLVED
    return envelope_for(
        SOURCE,
        event,
        notification.id,
        event_type,
        version,
        {
            "demand_id": str(event.originator_id),
            "outcome": outcome,
            "resolved_by": event.staff_id,
            "resolved_at": event.timestamp.isoformat(),
        },
    )


def _staff_action(event, notification: Notification, kind, **data) -> Envelope:
    event_type, version = kind
    return envelope_for(
        SOURCE,
        event,
        notification.id,
        event_type,
        version,
        {"demand_id": str(event.originator_id), "staff_id": event.staff_id, **data},
    )

"""Integration events intake publishes: its events as the envelopes of the
schemas named in ``services.intake.contract``. Personal data stays home."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.intake.contract import (
    CONTRACT_REVIEWED,
    DEMAND_HANDED_OVER,
    DEMAND_REFERRED,
    DEMAND_REGISTERED,
    DEMAND_RESOLVED,
    DEMAND_TAKEN,
    IN_HOUSE_ESCALATED,
    IN_HOUSE_REMINDED,
    MATERIALS_NOTICE_ISSUED,
    NOTICE_VIOLATION,
    SOURCE,
)
from services.intake.domain import Demand
from shared.envelope import Envelope, envelope_for


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
                # the items only: the descriptions are free text (contract)
                "needs": [{"item_code": n["item_code"]} for n in event.needs],
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
    if isinstance(event, Demand.MaterialsNoticeIssued):
        return _staff_action(
            event,
            notification,
            MATERIALS_NOTICE_ISSUED,
            requested=list(event.requested),
            # v2: the materials only; what is wrong with each is staff's own
            # words, which stay here (issue 18; notify reads them)
            nonconforming=[m for m in event.requested if m in event.nonconforming],
            contacts=event.contacts,
            issued_at=event.timestamp.isoformat(),
        )
    if isinstance(event, Demand.NoticeRefused):
        late = list(event.late)
        return _staff_action(event, notification, NOTICE_VIOLATION, late=late)
    if isinstance(event, Demand.InHouseReminded):
        return _in_house(event, notification, IN_HOUSE_REMINDED, "reminded_at")
    if isinstance(event, Demand.InHouseEscalated):
        return _in_house(event, notification, IN_HOUSE_ESCALATED, "escalated_at")
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


def _in_house(event, notification: Notification, kind, moment: str) -> Envelope:
    """In-house service's deadline (8.3.2, 8.3.5): ids and codes only."""
    event_type, version = kind
    return envelope_for(
        SOURCE,
        event,
        notification.id,
        event_type,
        version,
        {
            "demand_id": str(event.originator_id),
            "owner": event.owner,
            "institution": event.institution,
            "items": list(event.items),
            "due_at": event.due,
            moment: event.timestamp.isoformat(),
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

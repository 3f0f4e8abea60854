"""Integration events intake publishes. Versioned; personal data stays home."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.intake.domain import Demand
from shared.envelope import Envelope, envelope_for

SOURCE = "intake"

# DemandRegistered v1 data: {demand_id, channel, needs: [{item_code,
# description}], registered_at}. No applicant name or phone (7.3.3).
DEMAND_REGISTERED = ("DemandRegistered", 1)
# DemandReferred v1 data: {demand_id, items: [item codes], quote_id,
# green_channel} — classified and referred at triage (8.3.4).
DEMAND_REFERRED = ("DemandReferred", 1)


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
            },
        )
    return None

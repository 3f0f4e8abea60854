"""Integration events complaints publishes. Versioned; no personal data.

ComplaintReceived v1 — data: {complaint_id, number, channel, anonymous,
  received_at, demand_id, referral_id, institution_id, staff_id} (links "" when
  absent). The envelope's correlation_id is the demand id when linked.
CorrectiveActionAgreed v1 — data: {complaint_id, number, action, owner,
  outcome, demand_id, institution_id}: an improvement item for evaluation.
"""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.complaints.domain import LINKS, Complaint
from shared.envelope import Envelope, envelope_for

SOURCE = "complaints"
COMPLAINT_RECEIVED = ("ComplaintReceived", 1)
CORRECTIVE_ACTION_AGREED = ("CorrectiveActionAgreed", 1)


def _received(event) -> dict:
    links = dict(event.links)
    return {
        "complaint_id": str(event.originator_id),
        "number": event.number,
        "channel": event.channel,
        "anonymous": bool(event.anonymous),
        "received_at": event.received_at,
        **{k: links.get(k, "") for k in LINKS},
    }


def to_envelope(event: object, notification: Notification) -> Envelope | None:
    if isinstance(event, Complaint.Received):
        event_type, version = COMPLAINT_RECEIVED
        data = _received(event)
    elif isinstance(event, Complaint.CorrectiveActionAgreed):
        event_type, version = CORRECTIVE_ACTION_AGREED
        data = {
            "complaint_id": str(event.originator_id),
            "action": event.action,
            "owner": event.owner,
            **dict(event.context),
        }
    else:
        return None
    return envelope_for(SOURCE, event, notification.id, event_type, version, data)

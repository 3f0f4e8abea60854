"""Integration events complaints publishes: its events as the envelopes of
the schemas named in ``services.complaints.contract``. No personal data."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.complaints.cards import CommentCard
from services.complaints.contract import (
    COMPLAINT_ACKNOWLEDGED,
    COMPLAINT_DECIDED,
    COMPLAINT_RECEIVED,
    CORRECTIVE_ACTION_AGREED,
    SOURCE,
    SUGGESTION_RECEIVED,
)
from services.complaints.domain import LINKS, Complaint
from shared.envelope import Envelope, envelope_for


def _received(event) -> dict:
    links = dict(event.links)
    return {
        "complaint_id": str(event.originator_id),
        "number": event.number,
        "channel": event.channel,
        "anonymous": bool(event.anonymous),
        "received_at": event.received_at,
        "verified": bool(getattr(event, "verified", False)),
        **{k: links.get(k, "") for k in LINKS},
    }


def to_envelope(event: object, notification: Notification) -> Envelope | None:
    if isinstance(event, CommentCard.SuggestionNoted):
        event_type, version = SUGGESTION_RECEIVED
        data = {
            "card_id": str(event.originator_id),
            "institution_id": event.institution_id,
            # v2: not the card's text, which stays here (issue 18)
            "received_at": event.received_at,
            "classified_at": event.timestamp.isoformat(),
        }
    elif isinstance(event, Complaint.Received):
        event_type, version = COMPLAINT_RECEIVED
        data = _received(event)
    elif isinstance(event, Complaint.CorrectiveActionAgreed):
        event_type, version = CORRECTIVE_ACTION_AGREED
        # v2: not the action's text, v3 not its owner (a person's name typed
        # by staff), which stay here (issue 18)
        data = {"complaint_id": str(event.originator_id), **dict(event.context)}
    elif isinstance(event, Complaint.Acknowledged):
        event_type, version = COMPLAINT_ACKNOWLEDGED
        data = {
            "complaint_id": str(event.originator_id),
            "acknowledged_at": event.timestamp.isoformat(),
        }
    elif isinstance(event, Complaint.Decided):
        event_type, version = COMPLAINT_DECIDED
        data = {
            "complaint_id": str(event.originator_id),
            "outcome": event.outcome,
            "decided_at": event.timestamp.isoformat(),
        }
    else:
        return None
    return envelope_for(SOURCE, event, notification.id, event_type, version, data)

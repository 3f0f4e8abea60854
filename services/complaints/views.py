"""What each reader sees of a complaint (confidentiality, ISO 10002 7.3.3)."""

from __future__ import annotations

from services.complaints.cards import CARD_SOURCES, CommentCard
from services.complaints.domain import Complaint
from services.complaints.rules import (
    CHANNELS,
    IDENTITY_ROLES,
    OUTCOMES,
    STATUS_LABELS,
)
from shared.calendar import WorkingCalendar
from shared.privacy import mask_name, mask_phone


def may_see_identity(role: str) -> bool:
    return role in IDENTITY_ROLES


def summary(
    complaint: Complaint,
    may_see_identity: bool,
    calendar: WorkingCalendar | None = None,
) -> dict:
    """The complaint for staff; the complainant's identity masked unless allowed."""
    name, phone = complaint.complainant_name, complaint.complainant_phone
    if not may_see_identity:
        name, phone = mask_name(name), mask_phone(phone)
    return {
        "id": str(complaint.id),
        "number": complaint.number,
        "version": complaint.version,
        "status": complaint.status,
        "status_label": STATUS_LABELS[complaint.status],
        "channel": complaint.channel,
        "channel_label": CHANNELS[complaint.channel],
        "anonymous": complaint.anonymous,
        "complainant_name": name,
        "complainant_phone": phone,
        "description": complaint.description,
        "remedy_requested": complaint.remedy_requested,
        "received_at": complaint.received_at,
        "links": dict(complaint.links),
        "handler": complaint.handler,
        "assessment": dict(complaint.assessment),
        "investigator": complaint.investigator,
        "decision": dict(complaint.decision),
        "review": dict(complaint.review),
        "dispute": dict(complaint.dispute),
        "corrective_actions": list(complaint.corrective_actions),
        "escalated_stages": list(complaint.escalated_stages),
        "closed_reason": complaint.closed_reason,
        # the service policy it is judged by (None: received before policies
        # were kept, the defaults) and the deadline of each stage (9.4)
        "policy_version": complaint.policy_version,
        "deadlines": {
            stage: due.isoformat()
            for stage, due in complaint.deadlines(calendar).items()
        },
    }


# what the complainant is promised by when (ISO 10002 8.3, 8.4; 9.4)
STAGE_PROMISES = {
    "acknowledge": "确认收到您的投诉",
    "respond": "告知处理结果",
    "close": "办结",
}


def status_for_complainant(
    complaint: Complaint, calendar: WorkingCalendar | None = None
) -> dict:
    """What a complaint code shows its holder (the complainant): the number,
    the stage labels, by when each stage is promised and whether it is done,
    and once communicated the decision and whether they may still accept it
    or ask for an internal review (ISO 10002 8.6, 8.7). Nothing of who
    handles it or of anyone's identity."""
    communicated = bool(getattr(complaint, "communicated", False))
    decision = dict(complaint.decision) if communicated else {}
    return {
        "number": complaint.number,
        "stage": STATUS_LABELS[complaint.status],
        "stages": [STATUS_LABELS[s] for s in complaint.history],
        "deadlines": [
            {
                "stage": stage,
                "label": STAGE_PROMISES[stage],
                "due": due.isoformat(),
                "done": complaint.stage_done(stage),
            }
            for stage, due in complaint.deadlines(calendar).items()
        ],
        "decision": {
            "outcome_label": OUTCOMES[decision["outcome"]],
            "response": decision["response"],
            "remedy": decision.get("remedy", ""),
        }
        if decision
        else None,
        "may_respond": complaint.status == "communicated",
    }


def list_row(row: dict, front_door: str) -> dict:
    """A row of the complaints list: the identity as stored, masked."""
    return {
        "id": row["complaint_id"],
        "number": row["number"],
        "status": row["status"],
        "status_label": STATUS_LABELS[row["status"]],
        "channel": row["channel"],
        "channel_label": CHANNELS.get(row["channel"], row["channel"]),
        "anonymous": bool(row["anonymous"]),
        "complainant_name": row["complainant_name"],
        "complainant_phone": row["complainant_phone"],
        "institution_id": row["institution_id"] or front_door,
        "demand_id": row["demand_id"],
        "handler": row["handler"],
        "severity": row["severity"],
        "escalated_stages": [s for s in row["escalated_stages"].split(",") if s],
        "received_at": row["received_at"],
    }


def card_view(card: CommentCard, may_see_identity: bool, front_door: str) -> dict:
    """A comment card for its institution: the text, and who left it when
    the reader may see identity (handlers, regulators)."""
    name, phone = card.contact_name, card.contact_phone
    if not may_see_identity:
        name, phone = mask_name(name), mask_phone(phone)
    return {
        **card.as_dict(),
        "institution_id": card.institution_id or front_door,
        "source_label": CARD_SOURCES[card.source],
        "text": card.text,
        "contact_name": name,
        "contact_phone": phone,
    }

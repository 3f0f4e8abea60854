"""What each reader sees of a complaint (confidentiality, ISO 10002 7.3.3)."""

from __future__ import annotations

from services.complaints.domain import Complaint
from services.complaints.rules import (
    CHANNELS,
    IDENTITY_ROLES,
    STATUS_LABELS,
    mask_name,
    mask_phone,
)


def may_see_identity(role: str) -> bool:
    return role in IDENTITY_ROLES


def summary(complaint: Complaint, may_see_identity: bool) -> dict:
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
    }


def status_for_complainant(complaint: Complaint) -> dict:
    """What a complaint code shows: the number and stage labels, nothing else."""
    return {
        "number": complaint.number,
        "stage": STATUS_LABELS[complaint.status],
        "stages": [STATUS_LABELS[s] for s in complaint.history],
    }

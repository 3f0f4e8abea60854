"""What each reader sees of a referral (7.3.3, object-level access).

The referring side (the demand's institution) and regulators see the whole
referral, candidates included; the partner it is addressed to sees its task,
not whom else the platform considered.
"""

from __future__ import annotations

from services.referral.contract import PROGRESS_STAGES, STATUS_LABELS
from services.referral.domain import Referral
from services.referral.rules import KINDS


def summary(referral: Referral, full: bool = True) -> dict:
    found = {
        "id": str(referral.id),
        "version": referral.version,
        "demand_id": referral.demand_id,
        "item_code": referral.item_code,
        "description": referral.description,
        "kind": referral.kind,
        "kind_label": KINDS.get(referral.kind, referral.kind),
        "requester": dict(referral.requester),
        "first_responder": referral.first_responder,
        "origin_institution": referral.origin_institution,
        "green_channel": referral.green_channel,
        "cycle_days": referral.cycle_days,
        "state": referral.status,
        "state_label": STATUS_LABELS[referral.status],
        "stage": referral.stage,
        "stage_label": PROGRESS_STAGES.get(referral.stage, ""),
        "assignee": dict(referral.assignee) if referral.assignee else None,
        "opened_at": referral.created_on.isoformat(),
        "sent_at": referral.sent_at,
        "accepted_at": referral.accepted_at,
        "completed_at": referral.completed_at,
        "acceptance_due": referral.acceptance_due,
        "completion_due": referral.completion_due,
        "on_time": referral.on_time,
        "extension": dict(referral.extension) if referral.extension else None,
        "extensions": [dict(e) for e in referral.extensions],
        "progress": [dict(p) for p in referral.progress],
        "report": dict(referral.report) if referral.report else None,
        "replaced_reports": [dict(r) for r in referral.replaced_reports],
        "feedback": dict(referral.feedback) if referral.feedback else None,
        "flags": [dict(f) for f in referral.flags],
        "reminded": list(referral.reminded),
        "escalated": list(referral.escalated),
        "closing_reason": referral.closing_reason,
        # the service policy it is judged by (None until first sent)
        "policy_version": (getattr(referral, "policy", None) or {}).get("version"),
    }
    if full:
        found["candidates"] = [dict(c) for c in referral.candidates]
        found["returns"] = [dict(r) for r in referral.returns]
        found["ruling"] = dict(referral.ruling) if referral.ruling else None
    return found

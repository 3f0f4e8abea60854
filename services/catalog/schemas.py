"""Integration events catalog publishes: its events as the envelopes of the
schemas named in ``services.catalog.contract``."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.catalog.contract import POLICY_CHANGED, QUALIFICATION_CHANGED, SOURCE
from services.catalog.domain import Institution
from services.catalog.policy import ServicePolicy
from shared.envelope import Envelope, envelope_for


def _qualification_data(event) -> dict | None:
    base = {"institution_id": str(event.originator_id)}
    base["cert_no"] = getattr(event, "cert_no", None)
    if isinstance(event, Institution.QualificationGranted):
        return {
            **base,
            "change": "granted",
            "kind": event.kind,
            "scope_codes": list(event.scope_codes),
            "valid_from": event.valid_from,
            "valid_to": event.valid_to,
        }
    if isinstance(event, Institution.QualificationStatusChanged):
        return {
            **base,
            "change": event.status,
            "effective_on": event.effective_on,
            # v2: not the admin's reason, which stays here (issue 18)
        }
    if isinstance(event, Institution.QualificationRenewed):
        return {**base, "change": "renewed", "valid_to": event.valid_to}
    return None


def _policy_data(event) -> dict:
    """The whole policy in force from this change (``contract.POLICY_CHANGED``)."""
    return {
        "institution": event.institution,
        "version": event.originator_version - 1,
        "limits": dict(event.limits),
        "changed": sorted(event.changes),
        # v2: not the admin's reason, which stays here (issue 18)
        "effective_at": event.timestamp.isoformat(),
    }


def to_envelope(event: object, notification: Notification) -> Envelope | None:
    if isinstance(event, ServicePolicy.Changed):
        event_type, version = POLICY_CHANGED
        data = _policy_data(event)
        return envelope_for(SOURCE, event, notification.id, event_type, version, data)
    if not isinstance(event, Institution.Event):
        return None
    data = _qualification_data(event)
    if data is None:
        return None
    event_type, version = QUALIFICATION_CHANGED
    return envelope_for(SOURCE, event, notification.id, event_type, version, data)

"""Integration events catalog publishes. Versioned.

QualificationChanged v1 — data: {institution_id, cert_no, change, ...} where
``change`` is one of
  granted:   kind, scope_codes, valid_from, valid_to
  suspended / valid (reinstated) / revoked: effective_on, reason
  renewed:   valid_to
A consumer keeps the latest per (institution_id, cert_no) by ``position``.
"""

from __future__ import annotations

from eventsourcing.persistence import Notification

from services.catalog.domain import Institution
from shared.envelope import Envelope, envelope_for

SOURCE = "catalog"
QUALIFICATION_CHANGED = ("QualificationChanged", 1)


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
            "reason": event.reason,
        }
    if isinstance(event, Institution.QualificationRenewed):
        return {**base, "change": "renewed", "valid_to": event.valid_to}
    return None


def to_envelope(event: object, notification: Notification) -> Envelope | None:
    if not isinstance(event, Institution.Event):
        return None
    data = _qualification_data(event)
    if data is None:
        return None
    event_type, version = QUALIFICATION_CHANGED
    return envelope_for(SOURCE, event, notification.id, event_type, version, data)

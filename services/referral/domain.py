"""Referral domain: one referral per (demand, service item) (8.3.4).

The walking skeleton opens a referral in state ``requested`` when a demand is
registered; matching, sending and the rest of the life cycle land with issue 6.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from shared.application import AuditedAggregate
from shared.qualification import QualificationView

STATES = {"requested": "待匹配"}


class Referral(AuditedAggregate):
    @staticmethod
    def create_id(demand_id: str, item_code: str) -> UUID:
        """One referral per demand and item: the id follows from both."""
        return uuid5(NAMESPACE_URL, f"qi-onestop:referral:{demand_id}:{item_code}")

    @event("Requested")
    def __init__(self, demand_id: str, item_code: str, description: str):
        self.demand_id = demand_id
        self.item_code = item_code
        self.description = description
        self.state = "requested"


class PartnerStanding(AuditedAggregate):
    """Referral's own record of a partner's qualifications, fed by catalog (4.1).

    Catalog's events may arrive out of order; each certificate keeps the source
    position of the last change applied, and older changes are ignored.
    """

    @staticmethod
    def create_id(institution_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"qi-onestop:partner-standing:{institution_id}")

    @event("Opened")
    def __init__(self, institution_id: str):
        self.institution_id = institution_id
        self.certificates: dict[str, dict] = {}

    def is_newer(self, cert_no: str, position: int) -> bool:
        return position > self.certificates.get(cert_no, {}).get("position", 0)

    @event("QualificationNoted")
    def note(self, cert_no: str, change: str, details: dict, position: int) -> None:
        """Apply catalog's change ``change`` to certificate ``cert_no``."""
        cert = self.certificates.setdefault(
            cert_no, {"cert_no": cert_no, "scope_codes": [], "history": []}
        )
        if change == "granted":
            for key in ("kind", "scope_codes", "valid_from", "valid_to"):
                cert[key] = details[key]
        elif change == "renewed":
            cert["valid_to"] = details["valid_to"]
        else:  # suspended / valid (reinstated) / revoked
            cert["history"].append([details["effective_on"], change])
            cert["history"].sort()
        cert["position"] = position

    def qualifications(self) -> list[QualificationView]:
        return [
            QualificationView.from_state(c)
            for c in self.certificates.values()
            if "valid_from" in c
        ]

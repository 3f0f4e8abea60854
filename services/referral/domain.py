"""Referral domain: one referral per (demand, service item) (8.3.4).

The walking skeleton opens a referral in state ``requested`` when a demand is
registered; matching, sending and the rest of the life cycle land with issue 6.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from shared.application import AuditedAggregate

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

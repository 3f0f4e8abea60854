"""Referral application: opening referrals for registered demands."""

from __future__ import annotations

from eventsourcing.application import AggregateNotFoundError

from services.referral.domain import STATES, Referral
from shared.application import ServiceApplication
from shared.envelope import Envelope


class ReferralApplication(ServiceApplication):
    name = "referral"

    def on_demand_registered(self, envelope: Envelope) -> bool:
        """Open a referral per service need; exactly once per delivery."""
        return self.process(envelope, self._open_referrals)

    @staticmethod
    def _open_referrals(envelope: Envelope) -> list[Referral]:
        demand_id = envelope.data["demand_id"]
        return [
            Referral(
                demand_id=demand_id,
                item_code=need["item_code"],
                description=need.get("description", ""),
            )
            for need in envelope.data["needs"]
        ]

    def referrals_for(self, demand_id: str, item_codes: list[str]) -> list[dict]:
        found = []
        for code in item_codes:
            try:
                referral = self.repository.get(Referral.create_id(demand_id, code))
            except AggregateNotFoundError:
                continue
            found.append(
                {
                    "id": str(referral.id),
                    "demand_id": referral.demand_id,
                    "item_code": referral.item_code,
                    "state": referral.state,
                    "state_label": STATES[referral.state],
                    "opened_at": referral.created_on.isoformat(),
                }
            )
        return found

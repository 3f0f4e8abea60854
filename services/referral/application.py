"""Referral application: opening referrals for registered demands."""

from __future__ import annotations

from datetime import date

from eventsourcing.application import AggregateNotFoundError

from services.referral.domain import STATES, PartnerStanding, Referral
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

    # -- partners' qualifications, as catalog reports them (4.1) ----------

    def on_qualification_changed(self, envelope: Envelope) -> bool:
        return self.process(envelope, self._note_qualification)

    def _note_qualification(self, envelope: Envelope) -> list[PartnerStanding]:
        data = envelope.data
        institution = data["institution_id"]
        try:
            standing = self.repository.get(PartnerStanding.create_id(institution))
        except AggregateNotFoundError:
            standing = PartnerStanding(institution_id=institution)
        if not standing.is_newer(data["cert_no"], envelope.position):
            return [standing]  # an older change arriving late: nothing to do
        details = {k: v for k, v in data.items() if k not in ("cert_no", "change")}
        standing.note(data["cert_no"], data["change"], details, envelope.position)
        return [standing]

    def partner_standing(self, institution_id: str, on_date: str) -> list[dict]:
        """The partner's certificates and their status on a date."""
        day = date.fromisoformat(on_date)
        try:
            standing = self.repository.get(PartnerStanding.create_id(institution_id))
        except AggregateNotFoundError:
            return []
        return [
            {
                "cert_no": q.cert_no,
                "scope_codes": list(q.scope_codes),
                "valid_to": q.valid_to.isoformat(),
                "status": q.status_on(day),
            }
            for q in standing.qualifications()
        ]

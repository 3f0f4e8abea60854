"""Referral's nameko entrypoints."""

from __future__ import annotations

from nameko.rpc import rpc

from services.referral.application import ReferralApplication
from shared.entrypoints import integration_handler
from shared.providers import Application, CaseHistory, Pingable


class ReferralService(Pingable, CaseHistory):
    name = "referral"

    app: ReferralApplication = Application(ReferralApplication)

    @integration_handler("intake", "DemandRegistered")
    def handle_intake_demand_registered(self, envelope):
        return self.app.on_demand_registered(envelope)

    @integration_handler("catalog", "QualificationChanged")
    def handle_catalog_qualification_changed(self, envelope):
        return self.app.on_qualification_changed(envelope)

    @rpc
    def partner_standing(self, institution_id, on_date):
        return self.app.partner_standing(institution_id, on_date)

    @rpc
    def referrals_for(self, demand_id, item_codes):
        return self.app.referrals_for(demand_id, list(item_codes))

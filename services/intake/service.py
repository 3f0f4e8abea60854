"""Intake's nameko entrypoints: thin, each one call into the application."""

from __future__ import annotations

from nameko.rpc import rpc

from services.intake.application import IntakeApplication
from services.intake.schemas import to_envelope
from shared.entrypoints import integration_handler
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.providers import Application, CaseHistory, OutboxRelayRunner, Pingable
from shared.rpc import BoundedRpcProxy
from shared.validation import aware

EXPECTED = (ValidationFailed, NotFound, ConflictError)


class IntakeService(Pingable, CaseHistory):
    name = "intake"

    catalog = BoundedRpcProxy("catalog")

    app: IntakeApplication = Application(IntakeApplication)
    relay = OutboxRelayRunner(to_envelope)

    @rpc(expected_exceptions=(ValidationFailed,))
    def register_demand(self, form, audit_data=None, idempotency_key=None):
        """``audit_data`` (who, on which channel) is applied by the provider."""
        return self.app.register_demand(form, idempotency_key)

    @rpc(expected_exceptions=EXPECTED)
    def take(self, demand_id, staff_id, audit_data=None):
        """7.4.2: the first staff member to take a demand owns it."""
        return self.app.take(demand_id, staff_id)

    @rpc(expected_exceptions=EXPECTED)
    def offer_handover(self, demand_id, staff_id, to_staff, reason, audit_data=None):
        return self.app.offer_handover(demand_id, staff_id, to_staff, reason)

    @rpc(expected_exceptions=EXPECTED)
    def answer_handover(self, demand_id, staff_id, accept, reason="", audit_data=None):
        return self.app.answer_handover(demand_id, staff_id, bool(accept), reason)

    @rpc(expected_exceptions=EXPECTED)
    def follow_up(self, demand_id, staff_id, note, audit_data=None):
        return self.app.follow_up(demand_id, staff_id, note)

    @rpc(expected_exceptions=EXPECTED)
    def notify_materials(
        self, demand_id, staff_id, provided, nonconforming=None, audit_data=None
    ):
        """7.4.3: the checklist of the requested items comes from catalog."""
        demand = self.app.get_demand(demand_id)
        checklist, contacts = [], self.catalog.guide()["service_phone"]
        for need in demand["needs"]:
            for material in self.catalog.item(need["item_code"])["materials"]:
                if material not in checklist:
                    checklist.append(material)
        return self.app.notify_materials(
            demand_id, staff_id, checklist, provided, nonconforming, contacts
        )

    @rpc(expected_exceptions=EXPECTED)
    def supply_materials(self, demand_id, items, audit_data=None):
        return self.app.supply_materials(demand_id, items)

    @rpc(expected_exceptions=EXPECTED)
    def open_green_channel(self, demand_id, reason, audit_data=None):
        return self.app.open_green_channel(demand_id, reason)

    @rpc(expected_exceptions=EXPECTED)
    def review_contract(self, demand_id, staff_id, checks, audit_data=None):
        return self.app.review_contract(demand_id, staff_id, checks)

    @rpc(expected_exceptions=EXPECTED)
    def decide(self, demand_id, staff_id, outcome, details=None, audit_data=None):
        return self.app.decide(demand_id, staff_id, outcome, details)

    @rpc(expected_exceptions=EXPECTED)
    def resolve(self, demand_id, staff_id, summary, audit_data=None):
        return self.app.resolve(demand_id, staff_id, summary)

    @rpc(expected_exceptions=EXPECTED)
    def reopen(self, demand_id, staff_id, reason, audit_data=None):
        return self.app.reopen(demand_id, staff_id, reason)

    @rpc(expected_exceptions=EXPECTED)
    def progress(self, code):
        return self.app.progress(code)

    @rpc(expected_exceptions=EXPECTED)
    def demand_for_progress_code(self, code):
        """For evaluation: the demand id a customer's progress code names."""
        return self.app.demand_for_progress_code(code)

    @rpc(expected_exceptions=EXPECTED)
    def stale_demands(self, now, working_hours, institution=None):
        return self.app.stale_demands(aware(now, "now"), working_hours, institution)

    @rpc(expected_exceptions=EXPECTED)
    def demands(self, institution=None, status="", offset=0, limit=50):
        """A page of demands of an institution (None: every institution)."""
        return self.app.demands(institution, status, offset, limit)

    @rpc(expected_exceptions=EXPECTED)
    def demand_as_of(self, demand_id, moment):
        """The demand as it stood at a past moment (regulator's audit)."""
        return self.app.demand_as_of(demand_id, aware(moment, "as_of"))

    @rpc(expected_exceptions=EXPECTED)
    def registration(self, demand_id):
        return self.app.registration(demand_id)

    @rpc(expected_exceptions=EXPECTED)
    def history(self, demand_id):
        return self.app.history(demand_id)

    @rpc(expected_exceptions=(NotFound,))
    def get_demand(self, demand_id):
        return self.app.get_demand(demand_id)

    @integration_handler("referral", "ReferralFeedback")
    def handle_referral_referral_feedback(self, envelope):
        """8.3.5: a referral's result, recorded on the demand for its owner."""
        return self.app.on_referral_feedback(envelope)

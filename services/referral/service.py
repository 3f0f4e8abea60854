"""Referral's nameko entrypoints: thin, each one call into the application.

Commands take ``audit_data`` (who, of which institution, on which channel); the
provider makes it the audit context, from which the application decides what
the caller may see and do. Routing decisions ask catalog over RPC.
"""

from __future__ import annotations

from nameko.rpc import rpc
from nameko.timer import timer

from services.referral.application import ReferralApplication
from services.referral.schemas import to_envelope
from shared import config
from shared.entrypoints import integration_handler
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.mixins import CaseHistory, Pingable
from shared.providers import Application, OutboxRelayRunner
from shared.rpc import BoundedRpcProxy
from shared.validation import aware

EXPECTED = (ValidationFailed, NotFound, ConflictError)


class ReferralService(Pingable, CaseHistory):
    name = "referral"

    catalog = BoundedRpcProxy("catalog")

    app: ReferralApplication = Application(ReferralApplication)
    relay = OutboxRelayRunner(to_envelope)

    # -- integration events ------------------------------------------------

    @integration_handler("intake", "DemandReferred")
    def handle_intake_demand_referred(self, envelope):
        return self.app.on_demand_referred(envelope, self.catalog)

    # v2: without the admin's reason, which no limit depends on
    @integration_handler("catalog", "PolicyChanged", 2)
    def handle_catalog_policy_changed(self, envelope):
        """A copy of every version of the institutions' service policies."""
        return self.app.on_policy_changed(envelope)

    # v2: without the admin's reason, read from catalog if a referral is flagged
    @integration_handler("catalog", "QualificationChanged", 2)
    def handle_catalog_qualification_changed(self, envelope):
        return self.app.on_qualification_changed(
            envelope, self.catalog.qualification_change
        )

    # -- routing (4.1, 8.3.4, 5.2.2 b-c, 6.9) -------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def open_task(self, form, audit_data=None):
        return self.app.open_task(form, self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def match(self, referral_id, audit_data=None):
        return self.app.match(referral_id, self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def pick(self, referral_id, institution_id, reason, audit_data=None):
        return self.app.pick(referral_id, institution_id, reason, self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def refer_to_expert(self, referral_id, expert_id, reason, audit_data=None):
        return self.app.refer_to_expert(referral_id, expert_id, reason, self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def send(self, referral_id, audit_data=None):
        return self.app.send(referral_id, self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def rule_responsible(self, referral_id, institution_id, reason, audit_data=None):
        return self.app.rule_responsible(
            referral_id, institution_id, reason, self.catalog
        )

    @rpc(expected_exceptions=EXPECTED)
    def reroute_unqualified(self, referral_id, reason, audit_data=None):
        return self.app.reroute_unqualified(referral_id, reason, self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def hold(self, referral_id, reason, audit_data=None):
        return self.app.hold(referral_id, reason)

    @rpc(expected_exceptions=EXPECTED)
    def resume(self, referral_id, audit_data=None):
        return self.app.resume(referral_id)

    @rpc(expected_exceptions=EXPECTED)
    def cancel(self, referral_id, reason, audit_data=None):
        return self.app.cancel(referral_id, reason)

    @rpc(expected_exceptions=EXPECTED)
    def decide_extension(self, referral_id, approve, note="", audit_data=None):
        return self.app.decide_extension(referral_id, bool(approve), note)

    # -- the partner's side ---------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def accept(self, referral_id, audit_data=None):
        return self.app.accept(referral_id, self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def decline(self, referral_id, reason, audit_data=None):
        return self.app.decline(referral_id, reason, self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def report_progress(self, referral_id, stage, note="", audit_data=None):
        return self.app.report_progress(referral_id, stage, note, self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def request_extension(self, referral_id, stage, days, reason, audit_data=None):
        return self.app.request_extension(referral_id, stage, days, reason)

    @rpc(expected_exceptions=EXPECTED)
    def complete(self, referral_id, report, audit_data=None):
        return self.app.complete(referral_id, report, self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def deliver_feedback(self, referral_id, summary, audit_data=None):
        return self.app.deliver_feedback(referral_id, summary)

    @rpc(expected_exceptions=EXPECTED)
    def fail(self, referral_id, reason, audit_data=None):
        return self.app.fail(referral_id, reason)

    @rpc(expected_exceptions=EXPECTED)
    def replace_report(self, referral_id, report, audit_data=None):
        return self.app.replace_report(referral_id, report)

    @rpc(expected_exceptions=EXPECTED)
    def revoke_report(self, referral_id, reason, audit_data=None):
        return self.app.revoke_report(referral_id, reason)

    # -- deadlines ---------------------------------------------------------------

    @timer(interval=config.get_float("QI_SLA_SWEEP_SECONDS"))
    def sweep_deadlines(self):
        """Reminders, escalations and re-routing of timed-out referrals."""
        self.app.escalate_all_overdue(self.catalog)

    @rpc(expected_exceptions=EXPECTED)
    def escalate_all_overdue(self, now=None, audit_data=None):
        """``now`` (ISO, with offset) is the clock of the sweep: for tests."""
        moment = aware(now, "now") if now else None
        return self.app.escalate_all_overdue(self.catalog, moment)

    # -- queries -------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def referral(self, referral_id, audit_data=None):
        return self.app.referral(referral_id)

    @rpc(expected_exceptions=EXPECTED)
    def inbox(self, institution_id, audit_data=None):
        return self.app.inbox(institution_id)

    @rpc(expected_exceptions=EXPECTED)
    def verify_report(self, code):
        return self.app.verify_report(code)

    @rpc
    def partner_standing(self, institution_id, on_date):
        return self.app.partner_standing(institution_id, on_date)

    @rpc(expected_exceptions=EXPECTED)
    def unopened_referrals(self, institution):
        """Referred demands of the institution whose referrals could not be
        opened, with the reason (the manager's board)."""
        return self.app.unopened(institution)

    @rpc(expected_exceptions=EXPECTED)
    def feedback_summary(self, referral_id):
        """For intake only, when it records a referral's result on the demand
        (8.3.5): the partner's words travel by this call, not in the event.
        nameko RPC carries no caller identity: any client of the broker that
        knows a referral's id could read its summary here; the gateway never
        exposes it beyond the referral's own readers."""
        return self.app.feedback_summary(referral_id)

    @rpc(expected_exceptions=EXPECTED)
    def escalation_detail(self, referral_id, version):
        """For notify only, when it writes the managers' message of an
        escalation (4.1, 9.4): the detail a qualification flag records (the
        certificate and catalog's reason), which ReferralEscalated v2 does
        not carry (issue 18). As above, no caller identity: any client of
        the broker that knows a referral's id could read it here."""
        return self.app.escalation_detail(referral_id, version)

    @rpc(expected_exceptions=EXPECTED)
    def watched_referrals(self, demands, audit_data=None):
        """The board's watched referrals of ``demands`` in one call
        (``WatchedMixin.watched_referrals``, 8.3.4)."""
        return self.app.watched_referrals(demands)

    @rpc
    def referrals_for(self, demand_id, item_codes):
        return self.app.referrals_for(demand_id, list(item_codes))

    @rpc
    def customer_progress(self, demand_id, item_codes):
        """7.4.6: the partner's stages, expected date and report, for the
        holder of the demand's progress code (the gateway checks it)."""
        return self.app.customer_progress(demand_id, list(item_codes))

"""Evaluation's nameko entrypoints: thin, each one call into the application."""

from __future__ import annotations

import base64

from nameko.rpc import rpc
from nameko.timer import timer

from services.evaluation import report, views
from services.evaluation.application import EvaluationApplication
from services.evaluation.domain import CallBack
from services.evaluation.schemas import to_envelope
from shared import config
from shared.entrypoints import integration_handler
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.providers import Application, CaseHistory, OutboxRelayRunner, Pingable
from shared.rpc import BoundedRpcProxy

EXPECTED = (ValidationFailed, NotFound, ConflictError)


class EvaluationService(Pingable, CaseHistory):
    name = "evaluation"

    intake = BoundedRpcProxy("intake")

    app: EvaluationApplication = Application(EvaluationApplication)
    relay = OutboxRelayRunner(to_envelope)

    # -- facts of other services (each noted once in its case record) --------

    @integration_handler("intake", "DemandRegistered")
    def handle_intake_demand_registered(self, envelope):
        return self.app.on_fact(envelope)

    @integration_handler("intake", "DemandTaken")
    def handle_intake_demand_taken(self, envelope):
        return self.app.on_fact(envelope)

    @integration_handler("intake", "DemandHandedOver")
    def handle_intake_demand_handed_over(self, envelope):
        return self.app.on_fact(envelope)

    @integration_handler("intake", "ContractReviewed")
    def handle_intake_contract_reviewed(self, envelope):
        return self.app.on_fact(envelope)

    @integration_handler("intake", "NoticeViolation")
    def handle_intake_notice_violation(self, envelope):
        return self.app.on_fact(envelope)

    @integration_handler("intake", "DemandReferred")
    def handle_intake_demand_referred(self, envelope):
        return self.app.on_fact(envelope)

    @integration_handler("intake", "DemandResolved")
    def handle_intake_demand_resolved(self, envelope):
        """The service ended: a satisfaction survey is issued (9.2.1)."""
        return self.app.on_fact(envelope)

    @integration_handler("referral", "ReferralCompleted")
    def handle_referral_referral_completed(self, envelope):
        return self.app.on_fact(envelope)

    @integration_handler("complaints", "ComplaintReceived")
    def handle_complaints_complaint_received(self, envelope):
        return self.app.on_fact(envelope)

    @integration_handler("complaints", "CorrectiveActionAgreed")
    def handle_complaints_corrective_action_agreed(self, envelope):
        """An agreed corrective action becomes an improvement item (9.3)."""
        return self.app.on_fact(envelope)

    # -- satisfaction (9.2.1) -------------------------------------------------

    def _demand_for_code(self, code):
        return self.intake.demand_for_progress_code(code)

    @rpc(expected_exceptions=EXPECTED)
    def rate(self, survey_id, code, form, audit_data=None):
        """The applicant rates a service with the demand's progress code."""
        return self.app.rate(survey_id, code, form, self._demand_for_code)

    @rpc(expected_exceptions=EXPECTED)
    def surveys_for_code(self, code):
        return self.app.surveys_for_code(code, self._demand_for_code)

    @rpc(expected_exceptions=EXPECTED)
    def survey(self, survey_id):
        return self.app.survey(survey_id)

    @rpc(expected_exceptions=EXPECTED)
    def record_call_back(self, call_back_id, caller, note, audit_data=None):
        return self.app.record_call_back(call_back_id, caller, note)

    @rpc(expected_exceptions=EXPECTED)
    def call_back(self, call_back_id):
        """One call-back, for the gateway to check whose it is."""
        return self.app.get_existing(call_back_id, CallBack, "call-back").as_dict()

    @rpc(expected_exceptions=EXPECTED)
    def call_backs(self, institution_id="", status="open"):
        return views.call_backs(self.app, institution_id, status)

    # -- improvement plans (9.3) ----------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def open_improvement(self, form, audit_data=None):
        return self.app.open_improvement(form)

    @rpc(expected_exceptions=EXPECTED)
    def change_improvement(self, item_id, command, kwargs=None, audit_data=None):
        """``plan`` {owner, actions, deadline}, ``record_progress`` {note},
        ``close`` {result}."""
        return self.app.change_improvement(item_id, command, **(kwargs or {}))

    @rpc(expected_exceptions=EXPECTED)
    def improvement(self, item_id):
        return self.app.improvement(item_id)

    @rpc(expected_exceptions=EXPECTED)
    def improvements(self, institution_id="", status="", demand_id=""):
        return views.improvements(self.app, institution_id, status, demand_id)

    @timer(interval=config.get_float("QI_SLA_SWEEP_SECONDS"))
    def sweep_deadlines(self):
        """Survey reminders and expiry, overdue improvement items (timer)."""
        self.app.sweep()

    @rpc(expected_exceptions=EXPECTED)
    def sweep(self, now=None, audit_data=None):
        return self.app.sweep(now)

    # -- per-service records (9.1.2) ------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def records_for_demand(self, demand_id):
        return views.for_demand(self.app, demand_id)

    @rpc(expected_exceptions=EXPECTED)
    def records_for_staff(self, staff_id, since, until):
        return views.for_staff(self.app, staff_id, since, until)

    @rpc(expected_exceptions=EXPECTED)
    def records_for_institution(self, institution_id, since, until):
        return views.for_institution(self.app, institution_id, since, until)

    # -- staff efficiency (9.2.2) ---------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def efficiency_figures(self, staff_id, since, until):
        return self.app.efficiency_figures(staff_id, since, until)

    @rpc(expected_exceptions=EXPECTED)
    def assess_efficiency(self, staff_id, since, until, audit_data=None):
        return self.app.assess_efficiency(staff_id, since, until)

    @rpc(expected_exceptions=EXPECTED)
    def comment_efficiency(self, assessment_id, comment, audit_data=None):
        """Managers only (the role comes from ``audit_data``)."""
        return self.app.comment_efficiency(assessment_id, comment)

    @rpc(expected_exceptions=EXPECTED)
    def efficiency_assessment(self, assessment_id):
        return self.app.efficiency_assessment(assessment_id)

    # -- half-year summary (9.1.3) --------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def draft_half_year(self, institution_id, year, half, audit_data=None):
        return self.app.draft_half_year(institution_id, year, half)

    @rpc(expected_exceptions=EXPECTED)
    def sign_off_half_year(self, summary_id, note, audit_data=None):
        """Managers only (the role comes from ``audit_data``)."""
        return self.app.sign_off_half_year(summary_id, note)

    @rpc(expected_exceptions=EXPECTED)
    def half_year_summary(self, summary_id):
        return self.app.half_year_summary(summary_id)

    @rpc(expected_exceptions=EXPECTED)
    def half_year_html(self, summary_id):
        return report.to_html(self.app.half_year_summary(summary_id))

    @rpc(expected_exceptions=EXPECTED)
    def half_year_pdf(self, summary_id):
        """The printable PDF, base64-encoded (RPC carries JSON)."""
        pdf = report.to_pdf(self.app.half_year_summary(summary_id))
        return base64.b64encode(pdf).decode("ascii")

    @rpc(expected_exceptions=EXPECTED)
    def rebuild_view(self, audit_data=None):
        """Ops: rebuild the read model from the stored events."""
        return self.app.rebuild_view()

"""Evaluation's nameko entrypoints: thin, each one call into the application."""

from __future__ import annotations

import base64
import logging

from nameko.exceptions import UnknownService
from nameko.rpc import rpc
from nameko.timer import timer

from services.evaluation import report, schedule, views
from services.evaluation.application import EvaluationApplication
from services.evaluation.domain import CallBack
from services.evaluation.schemas import to_envelope
from shared import calendar, config
from shared.entrypoints import integration_handler
from shared.errors import (
    ConflictError,
    DependencyUnavailable,
    NotFound,
    ValidationFailed,
)
from shared.mixins import CaseHistory, Pingable
from shared.providers import Application, OutboxRelayRunner
from shared.rpc import BoundedRpcProxy
from shared.validation import aware

EXPECTED = (ValidationFailed, NotFound, ConflictError)
log = logging.getLogger(__name__)


class EvaluationService(Pingable, CaseHistory):
    name = "evaluation"

    intake = BoundedRpcProxy("intake")
    notify = BoundedRpcProxy("notify")
    # the words of a corrective action or a suggestion card, which their
    # events do not carry (issue 18)
    complaints = BoundedRpcProxy("complaints")

    app: EvaluationApplication = Application(EvaluationApplication)
    relay = OutboxRelayRunner(to_envelope)

    # v2: without the admin's reason, which no limit depends on
    @integration_handler("catalog", "PolicyChanged", 2)
    def handle_catalog_policy_changed(self, envelope):
        """A copy of every version of the institutions' service policies: a
        survey's window and an improvement item's deadline are its
        institution's (9.2.1, 9.3)."""
        return self.app.on_policy_changed(envelope)

    # -- facts of other services (each noted once in its case record) --------

    # v2: the needs without their descriptions (read as v1 was)
    @integration_handler("intake", "DemandRegistered", 2)
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

    @integration_handler("complaints", "ComplaintReceived", schema_version=2)
    def handle_complaints_complaint_received(self, envelope):
        return self.app.on_fact(envelope)

    # v2: without the card's text, read from complaints as the item opens
    @integration_handler("complaints", "SuggestionReceived", 2)
    def handle_complaints_suggestion_received(self, envelope):
        """A suggestion card becomes an improvement item (9.3.1)."""
        return self.app.on_suggestion(envelope, self.complaints.suggestion_text)

    # v2: without the action's text, v3 without its owner either, both read
    # from complaints as the item opens
    @integration_handler("complaints", "CorrectiveActionAgreed", 3)
    def handle_complaints_corrective_action_agreed(self, envelope):
        """An agreed corrective action becomes an improvement item (9.3)."""
        return self.app.on_fact(envelope, self.complaints.corrective_action)

    # -- satisfaction (9.2.1) -------------------------------------------------

    def _demand_for_code(self, code):
        return self.intake.demand_for_progress_code(code)

    @rpc(expected_exceptions=EXPECTED)
    def rate(self, survey_id, code, form, audit_data=None):
        """The applicant rates a service with the demand's progress code."""
        return self.app.rate(survey_id, code, form, self._demand_for_code)

    @rpc(expected_exceptions=EXPECTED)
    def rate_for_department(self, survey_id, respondent, form, audit_data=None):
        """5.2.2 b, 6.9: the requesting department's rating of a task."""
        return self.app.rate_for_department(survey_id, respondent, form)

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
        """Invitations delivered, survey reminders and expiry, overdue
        improvement items (timer)."""
        self.app.sweep(delivered_at=self._invitations_delivered)

    @rpc(expected_exceptions=EXPECTED)
    def sweep(self, now=None, audit_data=None):
        return self.app.sweep(now, self._invitations_delivered)

    # -- periodic reviews due (9.1.3, 9.2.2) -----------------------------------

    @timer(interval=config.get_float("QI_SLA_SWEEP_SECONDS"))
    def sweep_reviews(self):
        """The overdue half-year summaries and efficiency reviews, counted in
        qi_evaluation_reviews_overdue (the QiReviewOverdue alert)."""
        self.app.view.catch_up()
        schedule.sweep(self.app.kernel, schedule.today(), self._limits_now)

    @rpc(expected_exceptions=EXPECTED)
    def due_reviews(self, institution_id, on=None, audit_data=None):
        """The institution's periodic reviews of the periods ended before
        ``on`` (an aware ISO moment; now if absent): due on, done, overdue
        (the manager's board)."""
        if not isinstance(institution_id, str) or not institution_id:
            raise ValidationFailed.single("institution_id", "请指明机构")
        day, moment = schedule.today(), None
        if on:
            moment = aware(on, "on")
            day = moment.astimezone(schedule.SHANGHAI).date()
        self.app.view.catch_up()
        limits = self._limits_now(institution_id, moment)
        return schedule.due_reviews(self.app.kernel, institution_id, day, limits)

    def _limits_now(self, institution: str, at=None) -> dict:
        """The institution's service policy in force now (or ``at``): the
        periods and due days of its reviews (9.1.3, 9.2.2)."""
        return self.app.policy_at(institution, at or calendar.CLOCK())["limits"]

    def _invitations_delivered(self, message_ids: list[str]) -> dict[str, str]:
        """notify's answer; none this round while it is away (9.2.1: the
        window then still counts from the service's end)."""
        try:
            return self.notify.delivered_at(message_ids)
        except (DependencyUnavailable, UnknownService) as exc:
            log.warning("notify did not answer for invitations: %s", exc)
            return {}

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
    def efficiency_figures_of_staff(self, staff_ids, since, until):
        """Every one of ``staff_ids``'s figures in one call (9.2.2): the
        manager's board and the efficiency page ask for their whole staff."""
        return self.app.efficiency_figures_of_staff(staff_ids, since, until)

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

"""Intake's nameko entrypoints: thin, each one call into the application."""

from __future__ import annotations

from nameko.rpc import rpc
from nameko.timer import timer

from services.intake import contacts, custody, in_house, visits
from services.intake.application import IntakeApplication
from services.intake.custody import CUSTOMER, as_json
from services.intake.open_referrals import open_referrals
from services.intake.schemas import to_envelope
from shared import config
from shared.entrypoints import integration_handler
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.mixins import CaseHistory, Pingable
from shared.providers import Application, OutboxRelayRunner
from shared.rpc import BoundedRpcProxy
from shared.validation import aware, require_day

EXPECTED = (ValidationFailed, NotFound, ConflictError)


class IntakeService(Pingable, CaseHistory):
    name = "intake"

    catalog = BoundedRpcProxy("catalog")
    referral = BoundedRpcProxy("referral")

    app: IntakeApplication = Application(IntakeApplication)
    relay = OutboxRelayRunner(to_envelope)

    @rpc(expected_exceptions=(ValidationFailed,))
    def register_demand(self, form, audit_data=None, idempotency_key=None):
        """``audit_data`` (who, on which channel) is applied by the provider."""
        return self.app.register_demand(form, idempotency_key, self._known_item)

    def _known_item(self, code: str) -> bool:
        """Whether the service catalog has the item (clause 6): asked of the
        catalog once per item code, a "yes" kept (``KnownItems``)."""
        return self.app.known_items.check(code, self._ask_catalog)

    def _ask_catalog(self, code: str) -> bool:
        try:
            self.catalog.item(code)
        except NotFound:
            return False
        return True

    @rpc(expected_exceptions=EXPECTED)
    def correct_registration(
        self, demand_id, staff_id, changes, reason, audit_data=None
    ):
        """Staff correct the registered form, checked as a registration."""
        return self.app.correct(demand_id, staff_id, changes, reason, self._known_item)

    @rpc(expected_exceptions=EXPECTED)
    def withdraw_handover(self, demand_id, staff_id, reason, audit_data=None):
        return self.app.withdraw_handover(demand_id, staff_id, reason)

    @rpc(expected_exceptions=EXPECTED)
    def reassign(self, demand_id, to_staff, reason, audit_data=None):
        """7.4.2: a manager names the demand's new owner."""
        return self.app.reassign(demand_id, to_staff, reason)

    @rpc(expected_exceptions=EXPECTED)
    def open_demands_of(self, institution, owners):
        return self.app.open_demands_of(institution, list(owners))

    @rpc(expected_exceptions=EXPECTED)
    def referred_demands(self, institution, limit=50):
        """The institution's ``limit`` newest referred demands (8.3.4), each
        ``{demand_id, item_codes}`` with the items it lists now: the manager's
        board asks for them all in one call, then referral for their
        referrals, instead of a call per demand."""
        if not isinstance(institution, str) or not institution:
            raise ValidationFailed.single("institution", "请指明机构")
        page = self.app.demands(institution, "referred", 0, limit)
        return [
            {
                "demand_id": row["demand_id"],
                "item_codes": [
                    need["item_code"]
                    for need in self.app.get_demand(row["demand_id"])["needs"]
                ],
            }
            for row in page["items"]
        ]

    @rpc(expected_exceptions=EXPECTED)
    def overdue_in_house(self, institution):
        return self.app.overdue_in_house(institution)

    @timer(interval=config.get_float("QI_SLA_SWEEP_SECONDS"))
    def sweep_in_house_deadlines(self):
        """Reminders and escalations of in-house service (8.3.2, 8.3.5)."""
        self.app.sweep_in_house()

    @rpc(expected_exceptions=EXPECTED)
    def sweep_in_house(self, now=None, audit_data=None):
        """``now`` (ISO, with offset) is the clock of the sweep: for tests."""
        return self.app.sweep_in_house(aware(now, "now") if now else None)

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
        checklist = []
        # the guide's phone, or, until an admin sets it, the window itself
        contacts = self.catalog.guide()["service_phone"] or "受理本需求的服务窗口"
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
        demand = self.app.get_demand(demand_id)
        cycle_days = None
        if outcome == "in_house":
            in_house.require_own_qualification(demand, self.catalog)
            cycle_days = max(
                int(self.catalog.item(n["item_code"])["cycle_days"])
                for n in demand["needs"]
            )
        still_open = []
        # an answer at once ends the service as a resolution does (8.3.5): a
        # demand referred in an earlier round (reopened) has referrals to ask
        # about; one never referred has none, and needs no answer of referral
        if outcome == "answered" and demand["referred_items"]:
            still_open = open_referrals(demand, self.referral)
        return self.app.decide(
            demand_id, staff_id, outcome, details, cycle_days, still_open
        )

    @rpc(expected_exceptions=EXPECTED)
    def resolve(self, demand_id, staff_id, summary, audit_data=None):
        """Not while a referral of the demand is open, in whatever status the
        demand is (``services.intake.open_referrals``; referral says which)."""
        demand = self.app.get_demand(demand_id)
        still_open = open_referrals(demand, self.referral)
        return self.app.resolve(demand_id, staff_id, summary, still_open)

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

    @rpc(expected_exceptions=(NotFound,))
    def notification_contact(self, demand_id):
        """For notify only, at send time: the customer's phone, e-mail and
        progress code (see ``services.intake.contacts`` for the risk)."""
        return contacts.notification_contact(self.app, demand_id)

    @rpc(expected_exceptions=(NotFound,))
    def materials_notice(self, demand_id, version):
        """For notify only, when it writes the one-time notice (7.4.3): what
        staff wrote is wrong with each material, which MaterialsNoticeIssued
        (v2) does not carry (issue 18; ``services.intake.contacts``)."""
        return contacts.materials_notice(self.app, demand_id, version)

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

    # -- convenience services (7.4.4): visits, samples, report delivery ------
    # dates and times arrive as ISO text or as date/datetime objects

    @rpc(expected_exceptions=EXPECTED)
    def custody(self, demand_id):
        """The demand's visits, samples and holders, movements and deliveries."""
        return custody.custody_view(self.app, demand_id)

    @rpc(expected_exceptions=EXPECTED)
    def sample_chain(self, demand_id, sample_id):
        return custody.sample_chain(self.app, demand_id, sample_id)

    @rpc(expected_exceptions=EXPECTED)
    def request_visit(
        self, demand_id, kind, address, preferred_date, contact, phone, audit_data=None
    ):
        """Door-to-door acceptance or a sample pickup (7.4.4)."""
        day = require_day(preferred_date, "preferred_date", "期望日期")
        visit = custody.request_visit(
            self.app, demand_id, kind, address, day, contact, phone
        )
        return as_json(visit)

    @rpc(expected_exceptions=EXPECTED)
    def register_sample(
        self,
        demand_id,
        sample_id,
        description,
        quantity,
        condition,
        note="",
        courier=None,
        audit_data=None,
    ):
        sample = custody.register_sample(
            self.app,
            demand_id,
            sample_id,
            description,
            quantity,
            condition,
            note,
            courier,
        )
        return as_json(sample)

    @rpc(expected_exceptions=EXPECTED)
    def hand_over_samples(
        self,
        demand_id,
        sample_ids,
        from_party,
        to_party,
        at,
        place,
        condition,
        note="",
        audit_data=None,
    ):
        """Only the current holder hands samples on (7.4.4 sample transfer)."""
        moved = custody.hand_over(
            self.app,
            demand_id,
            sample_ids,
            from_party,
            to_party,
            aware(at, "at"),
            place,
            condition,
            note,
        )
        return as_json(moved)

    @rpc(expected_exceptions=EXPECTED)
    def return_samples(
        self,
        demand_id,
        sample_ids,
        from_party,
        at,
        place,
        condition,
        note="",
        to_party=CUSTOMER,
        audit_data=None,
    ):
        moved = custody.return_samples(
            self.app,
            demand_id,
            sample_ids,
            from_party,
            aware(at, "at"),
            place,
            condition,
            note,
            to_party,
        )
        return as_json(moved)

    @rpc(expected_exceptions=EXPECTED)
    def dispose_samples(
        self, demand_id, sample_ids, from_party, at, place, method, audit_data=None
    ):
        moved = custody.dispose_samples(
            self.app, demand_id, sample_ids, from_party, aware(at, "at"), place, method
        )
        return as_json(moved)

    @rpc(expected_exceptions=EXPECTED)
    def deliver_report(
        self,
        demand_id,
        report_no,
        method,
        by,
        at,
        address=None,
        email=None,
        tracking_no=None,
        reason=None,
        audit_data=None,
    ):
        """Post, e-mail (free) or download; a second delivery needs a reason."""
        delivered = custody.deliver_report(
            self.app,
            demand_id,
            report_no,
            method,
            by,
            aware(at, "at"),
            address=address,
            email=email,
            tracking_no=tracking_no,
            reason=reason,
        )
        return as_json(delivered)

    # -- proactive visits to service objects (8.2.2) --------------------------

    @rpc(expected_exceptions=EXPECTED)
    def draft_visit_plan(self, institution_id, period, audit_data=None):
        return visits.draft_plan(self.app, institution_id, period)

    @rpc(expected_exceptions=EXPECTED)
    def visit_plan(self, plan_id, today):
        """The plan, its completion rate and the visits overdue on ``today``."""
        return visits.plan_report(
            self.app, plan_id, require_day(today, "today", "日期")
        )

    @rpc(expected_exceptions=EXPECTED)
    def visit_plan_for(self, institution_id, period, today):
        """An institution's plan for a period (``NotFound`` until drafted)."""
        today = require_day(today, "today", "日期")
        return visits.plan_for(self.app, institution_id, period, today)

    @rpc(expected_exceptions=EXPECTED)
    def plan_visit(
        self, plan_id, company, address, planned_on, staff_id, audit_data=None
    ):
        """``result`` is the new visit's id."""
        return visits.change_plan(
            self.app,
            plan_id,
            lambda plan: plan.plan_visit(company, address, planned_on, staff_id),
        )

    @rpc(expected_exceptions=EXPECTED)
    def reschedule_visit(self, plan_id, visit_id, planned_on, reason, audit_data=None):
        return visits.change_plan(
            self.app,
            plan_id,
            lambda plan: plan.reschedule(visit_id, planned_on, reason),
        )

    @rpc(expected_exceptions=EXPECTED)
    def cancel_visit(self, plan_id, visit_id, reason, audit_data=None):
        return visits.change_plan(
            self.app, plan_id, lambda plan: plan.cancel(visit_id, reason)
        )

    @rpc(expected_exceptions=EXPECTED)
    def record_visit(self, plan_id, visit_id, form, staff_id, today, audit_data=None):
        """Record a visit once; each demand collected is registered (8.2.3)."""
        return visits.record_visit(
            self.app,
            plan_id,
            visit_id,
            form,
            staff_id=staff_id,
            today=require_day(today, "today", "日期"),
            known_item=self._known_item,
        )

    # v2: without the partner's summary, read from referral as it is recorded
    @integration_handler("referral", "ReferralFeedback", 2)
    def handle_referral_referral_feedback(self, envelope):
        """8.3.5: a referral's result, recorded on the demand for its owner.
        Referral not answering puts the message back (DependencyUnavailable)."""
        return self.app.on_referral_feedback(envelope, self.referral.feedback_summary)

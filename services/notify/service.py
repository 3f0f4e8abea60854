"""Notify's nameko entrypoints: thin, each one call into the application.

One ``@integration_handler`` per event that must reach a person (the wiring in
``services/__init__.py`` lists them), a timer that runs the sender
(``dispatch``), and the RPC queries of ``services.notify.contract``.
"""

from __future__ import annotations

from nameko.exceptions import ContainerBeingKilled
from nameko.rpc import rpc
from nameko.timer import Timer

from services.notify.addresses import Directory
from services.notify.application import NotifyApplication
from services.notify.dispatch import Dispatcher, senders_from_config
from shared import config
from shared.entrypoints import integration_handler
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.mixins import CaseHistory, Pingable
from shared.providers import Application
from shared.rpc import BoundedRpcProxy

EXPECTED = (ValidationFailed, NotFound, ConflictError)


class SettingTimer(Timer):
    """A timer whose interval is a setting read when the service starts."""

    def __init__(self, setting: str, **kwargs):
        self.setting = setting
        super().__init__(interval=1.0, eager=True, **kwargs)

    def start(self):
        self.interval = config.get_float(self.setting)
        super().start()

    def handle_timer_tick(self):
        try:
            super().handle_timer_tick()
        except ContainerBeingKilled:  # stopping: no more rounds, and no error
            self.worker_complete.send()


every = SettingTimer.decorator


class NotifyService(Pingable, CaseHistory):
    name = "notify"

    intake = BoundedRpcProxy("intake")
    complaints = BoundedRpcProxy("complaints")
    catalog = BoundedRpcProxy("catalog")
    # a qualification flag's detail, which ReferralEscalated v2 does not carry
    referral = BoundedRpcProxy("referral")

    app: NotifyApplication = Application(NotifyApplication)

    @property
    def directory(self) -> Directory:
        return Directory(self.intake, self.complaints, self.catalog, self.referral)

    def _queue(self, envelope):
        return self.app.on_event(envelope, self.directory)

    # -- the events that must reach a person (services/notify/policy.py) ------

    # v2: the materials without staff's words, read from intake as it is made
    @integration_handler("intake", "MaterialsNoticeIssued", 2)
    def handle_intake_materials_notice_issued(self, envelope):
        """7.4.3: the one-time notice, to the customer."""
        return self._queue(envelope)

    @integration_handler("intake", "InHouseReminded")
    def handle_intake_in_house_reminded(self, envelope):
        """8.3.2, 8.3.5: in-house service nearly due, to its owner."""
        return self._queue(envelope)

    @integration_handler("intake", "InHouseEscalated")
    def handle_intake_in_house_escalated(self, envelope):
        """8.3.5, 9.4: in-house service overdue, to the managers."""
        return self._queue(envelope)

    @integration_handler("referral", "ReferralSent")
    def handle_referral_referral_sent(self, envelope):
        return self._queue(envelope)

    @integration_handler("referral", "ReferralAccepted")
    def handle_referral_referral_accepted(self, envelope):
        return self._queue(envelope)

    @integration_handler("referral", "ReferralDueSoon")
    def handle_referral_referral_due_soon(self, envelope):
        return self._queue(envelope)

    # v2: without a flag's detail, read from referral as the message is made
    @integration_handler("referral", "ReferralEscalated", 2)
    def handle_referral_referral_escalated(self, envelope):
        """9.4: to the managers (and an overdue one to the partner too)."""
        return self._queue(envelope)

    @integration_handler("referral", "ReferralCompleted")
    def handle_referral_referral_completed(self, envelope):
        return self._queue(envelope)

    @integration_handler("evaluation", "SurveyIssued")
    def handle_evaluation_survey_issued(self, envelope):
        """9.2.1: the rating link, to the applicant."""
        return self._queue(envelope)

    @integration_handler("evaluation", "SurveyReminded")
    def handle_evaluation_survey_reminded(self, envelope):
        return self._queue(envelope)

    @integration_handler("evaluation", "ImprovementItemEscalated")
    def handle_evaluation_improvement_item_escalated(self, envelope):
        return self._queue(envelope)

    @integration_handler("complaints", "ComplaintAcknowledged")
    def handle_complaints_complaint_acknowledged(self, envelope):
        return self._queue(envelope)

    @integration_handler("complaints", "ComplaintDecided")
    def handle_complaints_complaint_decided(self, envelope):
        return self._queue(envelope)

    # -- the sender ------------------------------------------------------------

    @every("QI_NOTIFY_POLL_SECONDS")
    def dispatch(self):
        """Send what is due (``services.notify.dispatch``)."""
        Dispatcher(self.app, senders_from_config(), self.directory).round()

    # -- queries (services.notify.contract) --------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def inbox(self, actor, offset=0, limit=50):
        return self.app.inbox(actor, int(offset), min(int(limit), 200))

    @rpc(expected_exceptions=EXPECTED)
    def messages_for_progress_code(self, code):
        """7.4.6: what the customer was told, by the code they hold."""
        demand_id = self.directory.demand_for_code(code)
        return self.app.for_demand(demand_id, "customer")

    @rpc(expected_exceptions=EXPECTED)
    def messages_for_demand(self, demand_id):
        return self.app.for_demand(demand_id)

    @rpc(expected_exceptions=EXPECTED)
    def messages_for_complaint_code(self, code):
        return self.app.for_complaint(self.directory.complaint_number_for_code(code))

    @rpc(expected_exceptions=EXPECTED)
    def message(self, message_id):
        return self.app.message(message_id)

    @rpc(expected_exceptions=EXPECTED)
    def delivered_at(self, message_ids):
        """9.2.1: when each message first reached its person (evaluation asks
        for its survey invitations)."""
        return self.app.delivered_at(list(message_ids))

    @rpc(expected_exceptions=EXPECTED)
    def undelivered(self):
        return self.app.undelivered()

    @rpc(expected_exceptions=EXPECTED)
    def release(self, message_id, audit_data=None):
        """Ops: a parked delivery is tried again."""
        return self.app.release(message_id)

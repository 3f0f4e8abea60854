"""Complaints' nameko entrypoints: thin, each one call into the application."""

from __future__ import annotations

from nameko.rpc import rpc
from nameko.timer import timer

from services.complaints.application import ComplaintsApplication
from services.complaints.case_link import complaint_form
from services.complaints.contract import COMMANDS
from services.complaints.schemas import to_envelope
from shared import audit, config
from shared.entrypoints import integration_handler
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.mixins import CaseHistory, Pingable
from shared.providers import Application, OutboxRelayRunner
from shared.rpc import BoundedRpcProxy
from shared.validation import aware

EXPECTED = (ValidationFailed, NotFound, ConflictError)


class ComplaintsService(Pingable, CaseHistory):
    name = "complaints"

    intake = BoundedRpcProxy("intake")

    app: ComplaintsApplication = Application(ComplaintsApplication)
    relay = OutboxRelayRunner(to_envelope)

    # v2: without the admin's reason, which no limit depends on
    @integration_handler("catalog", "PolicyChanged", 2)
    def handle_catalog_policy_changed(self, envelope):
        """A copy of every version of the institutions' service policies:
        each complaint's deadlines are its institution's (9.4)."""
        return self.app.on_policy_changed(envelope)

    @rpc(expected_exceptions=EXPECTED)
    def receive(self, form, audit_data=None):
        """``audit_data`` (who, on which channel) is applied by the provider.
        A complaint about a case names it by its progress code; its links come
        from that case, never from the form (``case_link``)."""
        received, verified = complaint_form(form, self.intake)
        return self.app.receive(received, verified)

    @rpc(expected_exceptions=EXPECTED)
    def respond_by_code(self, code, accept, reason="", audit_data=None):
        """The complainant accepts or rejects the decision by their code."""
        return self.app.respond_by_code(code, bool(accept), reason)

    @rpc(expected_exceptions=EXPECTED)
    def change(self, command, complaint_id, kwargs=None, audit_data=None):
        """One handling command: acknowledge, assess, decide, reject, ..."""
        if command not in COMMANDS:
            raise ValidationFailed.single("command", f"未知的操作：{command}")
        return self.app.change(command, complaint_id, **(kwargs or {}))

    @timer(interval=config.get_float("QI_SLA_SWEEP_SECONDS"))
    def sweep_deadlines(self):
        """Reminders and escalations of complaint deadlines (timer-driven)."""
        self.app.escalate_all_overdue()

    @rpc(expected_exceptions=EXPECTED)
    def escalate_all_overdue(self, audit_data=None):
        return self.app.escalate_all_overdue()

    @rpc(expected_exceptions=EXPECTED)
    def record_card(self, form, audit_data=None):
        return self.app.record_card(form)

    @rpc(expected_exceptions=EXPECTED)
    def classify_card(self, card_id, kind, audit_data=None):
        return self.app.classify_card(card_id, kind)

    @rpc(expected_exceptions=EXPECTED)
    def card(self, card_id, audit_data=None):
        """The caller's role (from ``audit_data``) decides contact masking."""
        return self.app.card(card_id, audit.current().actor.role)

    @rpc(expected_exceptions=EXPECTED)
    def complaints(self, institution=None, status="", offset=0, limit=50):
        """A page of the complaints an institution handles (None: all)."""
        return self.app.complaints(institution, status, offset, limit)

    @rpc(expected_exceptions=EXPECTED)
    def complaint(self, complaint_id, audit_data=None):
        """The caller's role (from ``audit_data``) decides identity masking."""
        return self.app.complaint(complaint_id, audit.current().actor.role)

    @rpc(expected_exceptions=EXPECTED)
    def figures(self, since, until, institution=None):
        """Figures of one handling institution's complaints (None: all)."""
        return self.app.figures(
            aware(since, "since"), aware(until, "until"), institution
        )

    @rpc(expected_exceptions=EXPECTED)
    def status_by_code(self, code):
        return self.app.status_by_code(code)

    @rpc(expected_exceptions=EXPECTED)
    def complainant_contact(self, complaint_id):
        """For notify only, when it sends: whom to tell and what was decided
        (ISO 10002 8.6). nameko RPC carries no caller identity, so any client
        of the broker that knows a complaint's id could read its complainant's
        contact here; the gateway never exposes it."""
        found = self.app.complaint(complaint_id, "complaint_handler")
        links = found["links"]
        return {
            "complaint_id": found["id"],
            "number": found["number"],
            "anonymous": found["anonymous"],
            "name": found["complainant_name"],
            "phone": found["complainant_phone"],
            "email": "",
            "received_at": found["received_at"],
            "decision": found["decision"],
            "demand_id": links.get("demand_id", ""),
            "institution_id": links.get("institution_id", ""),
        }

    @rpc(expected_exceptions=EXPECTED)
    def corrective_action(self, complaint_id, version):
        """For evaluation only, when it opens the improvement item of an agreed
        corrective action (9.3): the action's text, which the event does not
        carry (issue 18). nameko RPC carries no caller identity: any client
        of the broker that knows a complaint's id could read it here."""
        return self.app.corrective_action(complaint_id, version)

    @rpc(expected_exceptions=EXPECTED)
    def suggestion_text(self, card_id):
        """For evaluation only, when it opens the improvement item of a
        suggestion card (9.3.1): the card's text, not its contact. As above,
        any client of the broker that knows a card's id could read it."""
        return self.app.suggestion_text(card_id)

    @rpc(expected_exceptions=EXPECTED)
    def rebuild_view(self, audit_data=None):
        """Ops: rebuild the complaints list from the stored events."""
        return self.app.rebuild_view()

"""Complaints' nameko entrypoints: thin, each one call into the application."""

from __future__ import annotations

from nameko.rpc import rpc
from nameko.timer import timer

from services.complaints.application import COMMANDS, ComplaintsApplication
from services.complaints.rules import aware
from services.complaints.schemas import to_envelope
from shared import audit, config
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.providers import Application, CaseHistory, OutboxRelayRunner, Pingable

EXPECTED = (ValidationFailed, NotFound, ConflictError)


class ComplaintsService(Pingable, CaseHistory):
    name = "complaints"

    app: ComplaintsApplication = Application(ComplaintsApplication)
    relay = OutboxRelayRunner(to_envelope)

    @rpc(expected_exceptions=EXPECTED)
    def receive(self, form, audit_data=None):
        """``audit_data`` (who, on which channel) is applied by the provider."""
        return self.app.receive(form)

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
    def rebuild_view(self, audit_data=None):
        """Ops: rebuild the complaints list from the stored events."""
        return self.app.rebuild_view()

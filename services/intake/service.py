"""Intake's nameko entrypoints: thin, each one call into the application."""

from __future__ import annotations

from nameko.rpc import rpc

from services.intake.application import IntakeApplication
from services.intake.schemas import to_envelope
from shared.errors import NotFound, ValidationFailed
from shared.providers import Application, OutboxRelayRunner, Pingable


class IntakeService(Pingable):
    name = "intake"

    app: IntakeApplication = Application(IntakeApplication)
    relay = OutboxRelayRunner(to_envelope)

    @rpc(expected_exceptions=(ValidationFailed,))
    def register_demand(self, form, audit_data=None, idempotency_key=None):
        """``audit_data`` (who, on which channel) is applied by the provider."""
        return self.app.register_demand(form, idempotency_key)

    @rpc(expected_exceptions=(NotFound,))
    def get_demand(self, demand_id):
        return self.app.get_demand(demand_id)

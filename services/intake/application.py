"""Intake application: registering demands and reading them back."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.intake.domain import Demand, RegistrationForm, demand_id_for
from shared import audit
from shared.application import ServiceApplication
from shared.errors import NotFound, ValidationFailed


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


class IntakeApplication(ServiceApplication):
    name = "intake"

    def register_demand(self, form: dict, idempotency_key: str | None = None) -> dict:
        """Register a demand (8.2.3); a repeated idempotency key returns the first.

        Raises ``ValidationFailed`` naming every bad field; nothing is stored then.
        """
        registration = RegistrationForm.parse(form)
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
            raise ValidationFailed.single("Idempotency-Key", "应为1到200个字符")
        demand_id = demand_id_for(idempotency_key) if idempotency_key else None
        demand = Demand.register(registration, demand_id)
        context = audit.current()
        try:
            # the demand's channel is the channel of its registration event
            with audit.audit_scope(replace(context, channel=registration.channel)):
                self.save(demand)
        except IntegrityError:
            if demand_id is None:
                raise
            existing = self.repository.get(demand_id)
            if not existing.same_registration(registration):
                raise ValidationFailed.single(
                    "Idempotency-Key", "该幂等键已用于另一份不同的登记"
                ) from None
            return self.summary(existing)
        return self.summary(demand)

    def get_demand(self, demand_id: str) -> dict:
        try:
            demand = self.repository.get(UUID(str(demand_id)))
        except (ValueError, TypeError, AggregateNotFoundError):
            raise NotFound(f"demand {demand_id}") from None
        return self.summary(demand)

    @staticmethod
    def summary(demand: Demand) -> dict:
        return {
            "id": str(demand.id),
            "applicant": demand.applicant,
            "contact_phone": mask_phone(demand.contact_phone),
            "channel": demand.channel,
            "needs": [dict(n) for n in demand.needs],
            "status": demand.status,
            "progress_code": demand.progress_code,
            "registered_at": demand.created_on.isoformat(),
            "version": demand.version,
        }

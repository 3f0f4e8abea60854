"""Intake application: registering demands and reading them back."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from services.intake.domain import Demand
from services.intake.feedback import record_feedback
from services.intake.projections import IntakeView
from services.intake.registration import RegistrationForm, demand_id_for
from shared import audit, config
from shared.application import ServiceApplication
from shared.calendar import calendar_from_env
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.metrics import counter
from shared.projection import ProjectionRunner


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


STATUS_LABELS = {
    "registered": "已登记",
    "in_service": "服务中",
    "referred": "已转办",
    "resolved": "已办结",
    "reopened": "重新办理",
}
# what a customer sees of each event; the rest is internal work
STAGES = {
    "Registered": "需求已登记",
    "Taken": "已受理（首问负责）",
    "MaterialsNoticeIssued": "已一次性告知需补充的材料",
    "MaterialsSupplied": "已收到补充材料",
    "GreenChannelOpened": "已开通绿色通道",
    "Resolved": "已办结",
    "Reopened": "重新办理",
    "ReferralFeedbackReceived": "承办机构已反馈办理结果",
}
PROGRESS_CODE = re.compile(r"^[A-Z2-9]{10}$")
# business figures for operations (counted once, when the registration is stored)
DEMANDS_REGISTERED = counter(
    "intake", "demands_registered", "Demands registered, by channel.", ("channel",)
)
NEEDS_REGISTERED = counter(
    "intake",
    "needs_registered",
    "Service items asked for in registered demands, by channel and item code.",
    ("channel", "item"),
)


def stage_of(event) -> dict | None:
    name = type(event).__name__
    label = STAGES.get(name)
    if name == "Decided":
        label = {"answered": "已答复", "in_house": "服务中", "referred": "已转办"}[
            event.outcome
        ]
    return {"stage": label, "at": event.timestamp.isoformat()} if label else None


class IntakeApplication(ServiceApplication):
    name = "intake"

    def __init__(self, url: str | None = None, env: dict | None = None):
        super().__init__(url, env)
        self.view = ProjectionRunner(self, IntakeView())
        self.calendar = calendar_from_env()

    def register_demand(self, form: dict, idempotency_key: str | None = None) -> dict:
        """Register a demand (8.2.3); a repeated idempotency key returns the first.

        Raises ``ValidationFailed`` naming every bad field; nothing is stored then.
        """
        registration = RegistrationForm.parse(form)
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
            raise ValidationFailed.single("Idempotency-Key", "应为1到200个字符")
        demand_id = demand_id_for(idempotency_key) if idempotency_key else None
        # received by the caller's institution; online, by the front door's
        institution = audit.current().actor.institution or config.get(
            "QI_FRONT_DOOR_INSTITUTION"
        )
        demand = Demand.register(registration, demand_id, institution)
        # the demand's channel is the channel of its registration event
        with audit.audit_scope(replace(audit.current(), channel=registration.channel)):
            if self.save_if_new(demand):
                DEMANDS_REGISTERED.labels(channel=demand.channel).inc()
                for need in demand.needs:
                    NEEDS_REGISTERED.labels(
                        channel=demand.channel, item=need["item_code"]
                    ).inc()
                return self.summary(demand)
        if demand_id is None:  # a random id cannot collide: this is no retry
            raise ConflictError("登记未能保存，请重试")
        existing = self.repository.get(demand_id)
        if not existing.same_registration(registration):
            raise ValidationFailed.single(
                "Idempotency-Key", "该幂等键已用于另一份不同的登记"
            )
        return self.summary(existing)

    def get_demand(self, demand_id: str) -> dict:
        return self.summary(self._demand(demand_id))

    def demand_as_of(self, demand_id: str, moment: datetime) -> dict | None:
        """The demand as it stood at ``moment`` (None: not yet registered)."""
        demand = self._demand(demand_id)
        version = None
        for stored in self.recorder.select_events(demand.id):
            if self.mapper.to_domain_event(stored).timestamp > moment:
                break
            version = stored.originator_version
        if version is None:
            return None
        return self.summary(self.repository.get(demand.id, version=version))

    def registration(self, demand_id: str) -> dict:
        """The Appendix B form exactly as registered (staff only: personal data)."""
        return self._demand(demand_id).registration()

    @staticmethod
    def summary(demand: Demand) -> dict:
        return {
            "id": str(demand.id),
            "applicant": demand.applicant,
            "contact_phone": mask_phone(demand.contact_phone),
            "channel": demand.channel,
            "institution": demand.institution,
            "customer_kind": demand.customer_kind,
            "main_business": demand.main_business,
            "feedback_time": demand.feedback_time,
            "needs": [dict(n) for n in demand.needs],
            "status": demand.status,
            "progress_code": demand.progress_code,
            "registered_at": demand.created_on.isoformat(),
            "owner": demand.owner,
            "handover": demand.handover,
            "outstanding_materials": list(demand.outstanding),
            "referral_feedback": list(getattr(demand, "referral_feedback", [])),
            "materials_complete_at": (
                demand.materials_complete_at.isoformat()
                if demand.materials_complete_at
                else None
            ),
            "version": demand.version,
        }

    # -- staff commands: first responder, hand-over, follow-up, materials --

    def _change(self, demand_id: str, command) -> dict:
        """Load, apply, save — retried on fresh state if someone got there first."""

        def attempt():
            demand = self._demand(demand_id)
            result = command(demand)
            self.save(demand)
            return result, demand

        result, demand = self.retry_on_conflict(attempt)
        return {**self.summary(demand), "result": result}

    def _demand(self, demand_id: str) -> Demand:
        return self.get_existing(demand_id, Demand, "demand")

    def take(self, demand_id: str, staff_id: str) -> dict:
        return self._change(demand_id, lambda d: d.take(staff_id))

    def offer_handover(self, demand_id, staff_id, to_staff, reason) -> dict:
        return self._change(
            demand_id, lambda d: d.offer_handover(staff_id, to_staff, reason)
        )

    def answer_handover(self, demand_id, staff_id, accept: bool, reason="") -> dict:
        if accept:
            return self._change(demand_id, lambda d: d.accept_handover(staff_id))
        return self._change(demand_id, lambda d: d.refuse_handover(staff_id, reason))

    def follow_up(self, demand_id, staff_id, note) -> dict:
        return self._change(demand_id, lambda d: d.follow_up(staff_id, note))

    def notify_materials(
        self, demand_id, staff_id, checklist, provided, nonconforming, contacts
    ) -> dict:
        """Issue the one-time notice; ``result`` lists late items if refused."""
        return self._change(
            demand_id,
            lambda d: d.notify_materials(
                staff_id, checklist, provided or [], nonconforming or {}, contacts
            ),
        )

    def supply_materials(self, demand_id, items) -> dict:
        return self._change(demand_id, lambda d: d.supply_materials(items))

    def history(self, demand_id: str) -> list[dict]:
        """Every event of the demand, in order, with who did it (audit contract).

        One read of the stream: rebuilding the demand only to learn that it
        exists would read the same rows twice (bench (d))."""
        try:
            stored = self.recorder.select_events(UUID(str(demand_id)))
        except (ValueError, TypeError):
            stored = []
        events = [self.mapper.to_domain_event(s) for s in stored]
        if not events or not isinstance(events[0], Demand.Registered):
            raise NotFound(f"demand {demand_id}")
        return [
            {
                "version": e.originator_version,
                "event": type(e).__name__,
                "at": e.timestamp.isoformat(),
                "actor": e.audit["actor"],
                "channel": e.audit["channel"],
                "correlation_id": e.audit["correlation_id"],
            }
            for e in events
        ]

    # -- green channel, review, triage, resolution --------------------------

    def open_green_channel(self, demand_id: str, reason: str) -> dict:
        """7.4.5: only a service manager opens it."""
        actor = audit.current().actor
        if actor.role != "manager":
            raise ValidationFailed.single("role", "只有服务管理人员可以开通绿色通道")
        return self._change(demand_id, lambda d: d.open_green_channel(actor.id, reason))

    def review_contract(self, demand_id, staff_id, checks) -> dict:
        return self._change(demand_id, lambda d: d.review_contract(staff_id, checks))

    def decide(self, demand_id, staff_id, outcome, details=None) -> dict:
        return self._change(
            demand_id, lambda d: d.decide(staff_id, outcome, details or {})
        )

    def resolve(self, demand_id, staff_id, summary) -> dict:
        return self._change(demand_id, lambda d: d.resolve(staff_id, summary))

    def reopen(self, demand_id, staff_id, reason) -> dict:
        return self._change(demand_id, lambda d: d.reopen(staff_id, reason))

    # -- referral results (closed loop, 8.3.5) -------------------------------

    def on_referral_feedback(self, envelope) -> bool:
        """Record a referral's result on its demand, exactly once."""
        return self.process(envelope, lambda e: record_feedback(self, e))

    # -- progress (7.4.6) and stale demands (7.4.2) -------------------------

    def progress(self, code: str) -> dict:
        """The stages of the demand with this code, and nothing personal."""
        if not isinstance(code, str) or not PROGRESS_CODE.match(code):
            raise NotFound("progress code")
        self.view.catch_up()
        rows = self.kernel.query(
            "SELECT demand_id FROM intake_progress WHERE code=%s", (code,)
        )
        if not rows:
            raise NotFound("progress code")
        demand = self._demand(rows[0]["demand_id"])
        events = [
            self.mapper.to_domain_event(s)
            for s in self.recorder.select_events(demand.id)
        ]
        return {
            "status": demand.status,
            "status_label": STATUS_LABELS.get(demand.status, demand.status),
            "green_channel": demand.green_channel is not None,
            "items": [n["item_code"] for n in demand.needs],
            "outstanding_materials": list(demand.outstanding),
            "stages": [s for s in (stage_of(e) for e in events) if s],
        }

    def demand_for_progress_code(self, code: str) -> dict:
        """The demand a progress code names: evaluation checks with it that a
        rating comes from the applicant (9.2.1). Only the id, nothing personal."""
        if not isinstance(code, str) or not PROGRESS_CODE.match(code):
            raise NotFound("progress code")
        self.view.catch_up()
        rows = self.kernel.query(
            "SELECT demand_id FROM intake_progress WHERE code=%s", (code,)
        )
        if not rows:
            raise NotFound("progress code")
        return {"demand_id": rows[0]["demand_id"]}

    def demands(
        self, institution: str | None, status: str = "", offset=0, limit=50
    ) -> dict:
        """A page of an institution's demands, newest first (all if None)."""
        self.view.catch_up()
        where, args = [], []
        if institution is not None:
            where.append("institution=%s")
            args.append(institution)
        if status:
            where.append("status=%s")
            args.append(status)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        total = self.kernel.query(
            f"SELECT COUNT(*) AS n FROM intake_open {clause}", tuple(args)
        )[0]["n"]
        rows = self.kernel.query(
            "SELECT demand_id, status, owner, green_channel, institution, channel, "
            f"registered_at FROM intake_open {clause}"
            "ORDER BY registered_at DESC, demand_id LIMIT %s OFFSET %s",
            (*args, int(limit), int(offset)),
        )
        items = [
            {
                **row,
                "green_channel": bool(row["green_channel"]),
                "status_label": STATUS_LABELS.get(row["status"], row["status"]),
            }
            for row in rows
        ]
        return {"total": total, "offset": offset, "limit": limit, "items": items}

    def stale_demands(
        self, now, working_hours: float, institution: str | None = None
    ) -> list[dict]:
        """Open demands whose owner did nothing for ``working_hours`` (7.4.2),
        of one institution (None: every institution)."""
        self.view.catch_up()
        where, args = "status <> %s", ["resolved"]
        if institution is not None:
            where, args = where + " AND institution = %s", [*args, institution]
        rows = self.kernel.query(
            f"SELECT * FROM intake_open WHERE {where} ORDER BY demand_id", tuple(args)
        )
        stale = []
        for row in rows:
            since = datetime.fromisoformat(row["last_owner_action_at"])
            idle = self.calendar.working_hours_between(since, now)
            if idle >= working_hours:
                stale.append({**row, "idle_working_hours": round(idle, 2)})
        return sorted(stale, key=lambda r: -r["idle_working_hours"])

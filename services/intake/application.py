"""Intake application: registering demands and reading them back."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import func, select

from services.intake.contract import STATUS_LABELS
from services.intake.domain import Demand
from services.intake.feedback import record_feedback
from services.intake.projections import (
    OPEN,
    IntakeView,
    code_digest,
    open_demands,
    progress,
)
from services.intake.registration import (
    KnownItems,
    RegistrationForm,
    demand_id_for,
    require_catalog_items,
)
from shared import audit, config
from shared.application import ServiceApplication
from shared.calendar import calendar_from_env, now
from shared.codes import PROGRESS_CODE
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.metrics import counter
from shared.privacy import mask_phone
from shared.projection import ProjectionRunner

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
# in-house service: the owner is reminded this long before its due date
IN_HOUSE_REMINDER_LEAD = timedelta(hours=4)
# the deadline sweep acts for the platform, not for a person
SWEEPER = audit.Actor(id="service:intake", role="system")
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
        # item codes the catalog has confirmed (clause 6; issue 22)
        self.known_items = KnownItems()

    def register_demand(
        self, form: dict, idempotency_key: str | None = None, known_item=None
    ) -> dict:
        """Register a demand (8.2.3); a repeated idempotency key returns the first.

        Raises ``ValidationFailed`` naming every bad field; nothing is stored
        then. ``known_item(code)`` answers whether the catalog has the item
        (the service passes catalog's answer; every demand it registers is
        checked)."""
        registration = RegistrationForm.parse(form)
        if known_item is not None:
            require_catalog_items(form, registration.needs, known_item)
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
                return self.registered(demand)
        if demand_id is None:  # a random id cannot collide: this is no retry
            raise ConflictError("登记未能保存，请重试")
        existing = self.repository.get(demand_id)
        if not existing.same_registration(registration):
            raise ValidationFailed.single(
                "Idempotency-Key", "该幂等键已用于另一份不同的登记"
            )
        # a retry of the same registration (same key, same form) is the same
        # answer: whoever sends it already holds the code
        return self.registered(existing)

    @classmethod
    def registered(cls, demand: Demand) -> dict:
        """The answer to a registration: the only read that carries the
        progress code, the customer's credential for progress and rating
        (7.4.6, 9.2.1); every later read of the demand leaves it out."""
        return {**cls.summary(demand), "progress_code": demand.progress_code}

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
        """The demand as staff and the regulator read it: never its progress
        code, which only the customer holds (``registered``)."""
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
            "registered_at": demand.created_on.isoformat(),
            "owner": demand.owner,
            "handover": demand.handover,
            "outstanding_materials": list(demand.outstanding),
            "referral_feedback": list(getattr(demand, "referral_feedback", [])),
            "corrections": list(getattr(demand, "corrections", [])),
            "reassignments": list(getattr(demand, "reassignments", [])),
            "in_house_due": getattr(demand, "in_house_due", "") or None,
            # every item ever referred: their referrals must close first (8.3.5)
            "referred_items": list(getattr(demand, "referred_items", [])),
            "materials_complete_at": (
                demand.materials_complete_at.isoformat()
                if demand.materials_complete_at
                else None
            ),
            "version": demand.version,
        }

    # -- staff commands: first responder, hand-over, follow-up, materials --

    def _change(self, demand_id: str, command) -> dict:
        """Load, apply, save — retried on fresh state if someone got there first.

        A caller who names an institution (staff and managers, through the
        gateway) changes only that institution's demands (7.4.2): another's is
        not found, as if it did not exist. The gateway leaves this check to
        intake for most commands, instead of reading the demand over RPC only
        to compare its institution (issue 22: one call less per command)."""
        actor = audit.current().actor

        def attempt():
            demand = self._demand(demand_id)
            if actor.institution and demand.institution != actor.institution:
                raise NotFound(f"demand {demand_id}")
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

    def withdraw_handover(self, demand_id, staff_id, reason) -> dict:
        return self._change(demand_id, lambda d: d.withdraw_handover(staff_id, reason))

    def reassign(self, demand_id, to_staff, reason) -> dict:
        """7.4.2: a manager names a new owner (the gateway checks the account)."""
        actor = audit.current().actor
        if actor.role != "manager":
            raise ValidationFailed.single("role", "只有服务管理人员可以改派需求")
        return self._change(demand_id, lambda d: d.reassign(actor.id, to_staff, reason))

    def correct(self, demand_id, staff_id, changes, reason, known_item=None) -> dict:
        """Staff correct lines of the registered form: the corrected form must
        pass every rule of a registration (8.2.3), item codes included."""
        if not isinstance(changes, dict) or not changes:
            raise ValidationFailed.single("body", "请填写要更正的内容")
        if "channel" in changes:
            raise ValidationFailed.single("channel", "受理渠道不能更正")

        def command(demand: Demand):
            base = demand.registration()
            if {"service_item_code", "description"} & set(changes):
                # one item in short: what is not given is the first need's
                first = base.pop("needs")[0]
                base["service_item_code"] = first["item_code"]
                base["description"] = first["description"]
            form = {k: v for k, v in {**base, **changes}.items() if v is not None}
            registration = RegistrationForm.parse(form)
            if known_item is not None:
                require_catalog_items(form, registration.needs, known_item)
            demand.correct(staff_id, registration, reason)

        return self._change(demand_id, command)

    def follow_up(self, demand_id, staff_id, note) -> dict:
        return self._change(demand_id, lambda d: d.follow_up(staff_id, note))

    def notify_materials(
        self, demand_id, staff_id, checklist, provided, nonconforming, contacts
    ) -> dict:
        """Issue the one-time notice (7.4.3). A notice the rule refuses is
        recorded against its issuer (``NoticeRefused``) and then answered as
        a refusal naming the rule and the materials — never as a success."""
        changed = self._change(
            demand_id,
            lambda d: d.notify_materials(
                staff_id, checklist, provided or [], nonconforming or {}, contacts
            ),
        )
        late = changed["result"]
        if late:
            raise ConflictError(
                "一次性告知规则（7.4.3）：首次告知时就应列出的材料不能再补充告知，"
                "本次告知未发出，已记为违规：" + "、".join(late)
            )
        return changed

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

    def decide(
        self,
        demand_id,
        staff_id,
        outcome,
        details=None,
        cycle_days=None,
        open_referrals=(),
    ) -> dict:
        """``cycle_days``: the longest cycle of the demand's items (catalog);
        in-house service is due at the close of that many working days after
        the decision (8.3.2). ``open_referrals``: the demand's referrals
        referral says are open (an answer at once ends the service)."""
        due_at = ""
        if outcome == "in_house" and cycle_days:
            due_at = self.calendar.deadline(now(), int(cycle_days)).isoformat()
        return self._change(
            demand_id,
            lambda d: d.decide(
                staff_id, outcome, details or {}, due_at, list(open_referrals)
            ),
        )

    def resolve(self, demand_id, staff_id, summary, open_referrals=()) -> dict:
        """``open_referrals``: the demand's referrals referral says are open."""
        return self._change(
            demand_id, lambda d: d.resolve(staff_id, summary, list(open_referrals))
        )

    def sweep_in_house(self, moment: datetime | None = None) -> dict[str, list[str]]:
        """Remind and escalate in-house service past or near its due date,
        once each (as referral does for referrals, 8.3.5)."""
        moment = moment or now()
        self.view.catch_up()
        rows = self.kernel.query(
            select(OPEN.demand_id).where(OPEN.status == "in_service")
        )
        swept: dict[str, list[str]] = {}
        for row in rows:

            def attempt(demand_id=row["demand_id"]):
                demand = self._demand(demand_id)
                done = []
                if demand.remind_in_house(moment, IN_HOUSE_REMINDER_LEAD):
                    done.append("reminded")
                if demand.escalate_in_house(moment):
                    done.append("escalated")
                if done:
                    scope = audit.AuditContext(SWEEPER, "internal", demand_id)
                    with audit.audit_scope(scope):
                        self.save(demand)
                return done

            done = self.retry_on_conflict(attempt)
            if done:
                swept[row["demand_id"]] = done
        return swept

    def overdue_in_house(self, institution: str) -> list[dict]:
        """The institution's in-house service escalated past its due date."""
        self.view.catch_up()
        rows = self.kernel.query(
            select(OPEN.demand_id, OPEN.owner)
            .where(OPEN.status == "in_service", OPEN.institution == institution)
            .order_by(OPEN.demand_id)
        )
        found = []
        for row in rows:
            demand = self._demand(row["demand_id"])
            if getattr(demand, "in_house_escalated", ""):
                found.append(
                    {
                        "demand_id": row["demand_id"],
                        "owner": demand.owner,
                        "due_at": demand.in_house_due,
                        "department": (demand.triage or {}).get("department", ""),
                    }
                )
        return found

    def open_demands_of(self, institution: str, owners: list[str]) -> list[dict]:
        """The institution's unresolved demands owned by ``owners`` (a disabled
        account's, for the manager to reassign, 7.4.2)."""
        if not owners:
            return []
        self.view.catch_up()
        return self.kernel.query(
            select(OPEN.demand_id, OPEN.owner, OPEN.status, OPEN.registered_at)
            .where(
                OPEN.institution == institution,
                OPEN.owner.in_(list(owners)),
                OPEN.status != "resolved",
            )
            .order_by(OPEN.registered_at, OPEN.demand_id)
        )

    def reopen(self, demand_id, staff_id, reason) -> dict:
        return self._change(demand_id, lambda d: d.reopen(staff_id, reason))

    # -- referral results (closed loop, 8.3.5) -------------------------------

    def on_referral_feedback(self, envelope, read_summary=None) -> bool:
        """Record a referral's result on its demand, exactly once;
        ``read_summary`` (referral's ``feedback_summary``) gives the partner's
        words a v2 message no longer carries."""
        return self.process(envelope, lambda e: record_feedback(self, e, read_summary))

    # -- progress (7.4.6) and stale demands (7.4.2) -------------------------

    def progress(self, code: str) -> dict:
        """The stages of the demand with this code, and nothing personal."""
        if not isinstance(code, str) or not PROGRESS_CODE.match(code):
            raise NotFound("progress code")
        demand_id = self._demand_of_code(code)
        if demand_id is None:
            raise NotFound("progress code")
        demand = self._demand(demand_id)
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
        demand_id = self._demand_of_code(code)
        if demand_id is None:
            raise NotFound("progress code")
        return {"demand_id": demand_id}

    def _demand_of_code(self, code: str) -> str | None:
        self.view.catch_up()
        return self.kernel.scalar(
            select(progress.c.demand_id).where(progress.c.code == code_digest(code))
        )

    def demands(
        self, institution: str | None, status: str = "", offset=0, limit=50
    ) -> dict:
        """A page of an institution's demands, newest first (all if None)."""
        self.view.catch_up()
        where = []
        if institution is not None:
            where.append(OPEN.institution == institution)
        if status:
            where.append(OPEN.status == status)
        total = self.kernel.scalar(
            select(func.count()).select_from(open_demands).where(*where)
        )
        rows = self.kernel.query(
            select(
                OPEN.demand_id,
                OPEN.status,
                OPEN.owner,
                OPEN.green_channel,
                OPEN.institution,
                OPEN.channel,
                OPEN.registered_at,
            )
            .where(*where)
            .order_by(OPEN.registered_at.desc(), OPEN.demand_id)
            .limit(int(limit))
            .offset(int(offset))
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
        query = select(open_demands).where(OPEN.status != "resolved")
        if institution is not None:
            query = query.where(OPEN.institution == institution)
        rows = self.kernel.query(query.order_by(OPEN.demand_id))
        stale = []
        for row in rows:
            since = datetime.fromisoformat(row["last_owner_action_at"])
            idle = self.calendar.working_hours_between(since, now)
            if idle >= working_hours:
                stale.append({**row, "idle_working_hours": round(idle, 2)})
        return sorted(stale, key=lambda r: -r["idle_working_hours"])

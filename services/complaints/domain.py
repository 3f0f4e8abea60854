"""Complaint domain (GB/T 19012 / ISO 10002, disputes after GB/T 19013).

Every rule is checked before an event is stored; an invalid transition is
refused with a Chinese message naming ``status``. Deadlines count working days
from the moment of receipt (``shared.calendar``); an overdue stage is escalated
once, and only once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import event

from services.complaints.rules import (
    CHANNELS,
    DEADLINE_LIMITS,
    DEADLINES,
    DISPUTE_METHODS,
    LEVELS,
    OUTCOMES,
    require_status,
)
from shared.application import AuditedAggregate
from shared.calendar import WorkingCalendar
from shared.errors import ValidationFailed
from shared.validation import aware, optional_text, require_choice, require_text

AFTER_DECISION = ("decided", "communicated", "escalated", "reviewed", "closed")
# (handling institution id, "" if none; moment of receipt) -> {version, limits}
PolicyAt = Callable[[str, datetime], dict]
LINKS = ("demand_id", "referral_id", "institution_id", "staff_id")


def complaint_id_for(code: str) -> UUID:
    """The id complaints received before ids were random had: derived from the
    status code. New complaints get a random id (whoever knows an id must not
    be able to work out the code, nor the other way round); the code is found
    through the read model's digest of it (``projections.code_digest``)."""
    return uuid5(NAMESPACE_URL, f"qi-onestop:complaint:{code}")


# digits of the id in a complaint's number: with six, two complaints of one
# year shared a number with even odds by about 1,200 complaints; with ten, by
# about 118,000 (birthday bound), beyond any province's year of complaints
NUMBER_DIGITS = 10


def complaint_number(complaint_id: UUID, received_at: datetime) -> str:
    """TS-<year>-<10 digits>, the number a complainant quotes on the phone:
    derived from the random id (no counter to keep across instances)."""
    digits = complaint_id.int % 10**NUMBER_DIGITS
    return f"TS-{received_at.year}-{digits:0{NUMBER_DIGITS}d}"


class Complaint(AuditedAggregate):
    """One complaint, from receipt to closure (or an external dispute)."""

    @staticmethod
    def create_id() -> UUID:
        """Random: not derived from the complainant's code (see above)."""
        return uuid4()

    class Received(AuditedAggregate.Created):
        """v2 says whether the complaint was filed with the progress code of
        the case it is about, its links then derived from that case (9.2.2
        counts only such verified complaints against staff). v3 carries the
        service policy it is judged by ({version, limits}: its handling
        institution's in force at receipt, 9.4); None before v3, the
        defaults."""

        class_version = 3
        code: str
        number: str
        channel: str
        anonymous: bool
        complainant_name: str
        complainant_phone: str
        description: str
        remedy_requested: str
        received_at: str
        links: dict
        verified: bool
        policy: dict | None

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.setdefault("verified", False)

        @staticmethod
        def upcast_v2_v3(state: dict) -> None:
            state.setdefault("policy", None)

    @event("Received")
    def __init__(
        self,
        code: str,
        number: str,
        channel: str,
        anonymous: bool,
        complainant_name: str,
        complainant_phone: str,
        description: str,
        remedy_requested: str,
        received_at: str,
        links: dict,
        verified: bool = False,
        policy: dict | None = None,
    ):
        self.code = code
        self.policy = dict(policy) if policy else None
        self.verified = bool(verified)
        self.number = number
        self.channel = channel
        self.anonymous = anonymous
        self.complainant_name = complainant_name
        self.complainant_phone = complainant_phone
        self.description = description
        self.remedy_requested = remedy_requested
        self.received_at = received_at
        self.links = dict(links)
        self.status = "received"
        self.history = ["received"]
        self.handler = ""
        self.assessment: dict = {}
        self.investigator = ""
        self.decision: dict = {}
        self.communicated = False
        self.review: dict = {}
        self.dispute: dict = {}
        self.corrective_actions: list[dict] = []
        self.escalated_stages: list[str] = []
        self.reminded_stages: list[str] = []
        self.closed_reason = ""

    @classmethod
    def receive(
        cls,
        form: dict,
        code: str,
        verified: bool = False,
        policy_at: PolicyAt | None = None,
    ) -> Complaint:
        """Validate the complaint form; ``code`` is the complainant's status code.
        ``verified``: the links were derived from a case the complainant holds
        the progress code of, not taken from what was sent. ``policy_at``
        answers the handling institution's service policy in force at the
        moment of receipt (None: the defaults, nothing recorded)."""
        channel = require_choice(form.get("channel"), "channel", "投诉渠道", CHANNELS)
        anonymous = bool(form.get("anonymous", False))
        name = optional_text(form.get("complainant_name"), "complainant_name", "姓名")
        phone = optional_text(
            form.get("complainant_phone"), "complainant_phone", "联系电话", 30
        )
        if not anonymous and not (name and phone):
            raise ValidationFailed.single(
                "complainant_name", "实名投诉请填写姓名和联系电话，或选择匿名投诉"
            )
        description = require_text(
            form.get("description"), "description", "投诉内容", 2000
        )
        remedy = require_text(
            form.get("remedy_requested"), "remedy_requested", "期望的处理方式"
        )
        moment = aware(form.get("received_at"), "received_at")
        links = {k: str(form[k]) for k in LINKS if form.get(k)}
        policy = None
        if policy_at is not None:
            policy = policy_at(links.get("institution_id", ""), moment)
        complaint_id = uuid4()
        number = complaint_number(complaint_id, moment)
        return cls._create(
            cls.Received,
            id=complaint_id,
            code=code,
            number=number,
            channel=channel,
            anonymous=anonymous,
            complainant_name="" if anonymous else name,
            complainant_phone="" if anonymous else phone,
            description=description,
            remedy_requested=remedy,
            received_at=moment.isoformat(),
            links=links,
            verified=bool(verified),
            policy=policy,
        )

    def _move(self, status: str) -> None:
        self.status = status
        self.history.append(status)

    @property
    def demand_id(self) -> str:
        return self.links.get("demand_id", "")

    # -- handling (ISO 10002 8.3 - 8.7) ------------------------------------

    def acknowledge(self, handler: str) -> None:
        require_status(self.status, ("received",), "确认受理")
        self._acknowledged(require_text(handler, "handler", "受理人", 60))

    @event("Acknowledged")
    def _acknowledged(self, handler: str) -> None:
        self.handler = handler
        self._move("acknowledged")

    def assess(self, severity, complexity, impact, immediate_action=False) -> None:
        require_status(self.status, ("acknowledged",), "进行初步评估")
        self._assessed(
            require_choice(severity, "severity", "严重程度", LEVELS),
            require_choice(complexity, "complexity", "复杂程度", LEVELS),
            require_text(impact, "impact", "影响"),
            bool(immediate_action),
        )

    @event("Assessed")
    def _assessed(self, severity, complexity, impact, immediate_action) -> None:
        self.assessment = {
            "severity": severity,
            "complexity": complexity,
            "impact": impact,
            "immediate_action": immediate_action,
        }
        self._move("assessed")

    def assign_investigator(self, investigator: str) -> None:
        require_status(self.status, ("assessed",), "指派调查人")
        who = require_text(investigator, "investigator", "调查人", 60)
        if who == self.links.get("staff_id"):
            raise ValidationFailed.single(
                "investigator", "被投诉人员不能调查针对本人的投诉"
            )
        self._investigator_assigned(who)

    @event("InvestigatorAssigned")
    def _investigator_assigned(self, investigator: str) -> None:
        self.investigator = investigator
        self._move("investigating")

    def decide(self, outcome, response, remedy="") -> None:
        require_status(self.status, ("investigating", "reviewed"), "作出处理决定")
        outcome = require_choice(outcome, "outcome", "处理结论", OUTCOMES)
        response = require_text(response, "response", "答复意见", 2000)
        if outcome == "not_upheld":
            remedy = optional_text(remedy, "remedy", "补救措施")
        else:
            remedy = require_text(remedy, "remedy", "补救措施")
        self._decided(outcome, response, remedy)

    @event("Decided")
    def _decided(self, outcome, response, remedy) -> None:
        self.decision = {"outcome": outcome, "response": response, "remedy": remedy}
        self._move("decided")

    def communicate(self, method: str, note: str = "") -> None:
        require_status(self.status, ("decided",), "告知处理结果")
        self._communicated(
            require_text(method, "method", "告知方式", 60),
            optional_text(note, "note", "说明"),
        )

    @event("Communicated")
    def _communicated(self, method, note) -> None:
        self.communicated = True
        self._move("communicated")

    def accept(self) -> None:
        require_status(self.status, ("communicated",), "确认接受处理结果")
        self._closed("accepted")

    def reject(self, reason: str) -> None:
        """The complainant does not accept: escalated to internal review."""
        require_status(self.status, ("communicated",), "提请内部复核")
        self._escalated_to_review(require_text(reason, "reason", "不接受的理由"))

    @event("EscalatedToReview")
    def _escalated_to_review(self, reason: str) -> None:
        self.review = {"reason": reason}
        self._move("escalated")

    def record_review(self, reviewer: str, findings: str) -> None:
        require_status(self.status, ("escalated",), "记录复核结论")
        who = require_text(reviewer, "reviewer", "复核人", 60)
        if who in (self.investigator, self.links.get("staff_id")):
            raise ValidationFailed.single("reviewer", "复核人不能是原调查人或被投诉人")
        self._reviewed(who, require_text(findings, "findings", "复核意见", 2000))

    @event("Reviewed")
    def _reviewed(self, reviewer, findings) -> None:
        self.review = {**self.review, "reviewer": reviewer, "findings": findings}
        self._move("reviewed")

    # -- external dispute resolution (GB/T 19013) ---------------------------

    def record_consent(self, note: str) -> None:
        """The complainant's informed consent to an external provider."""
        require_status(self.status, ("reviewed",), "记录争议解决同意")
        if self.dispute.get("consent"):
            raise ValidationFailed.single("consent", "已记录投诉人的知情同意")
        self._consent_recorded(require_text(note, "note", "知情同意说明"))

    @event("DisputeConsentRecorded")
    def _consent_recorded(self, note) -> None:
        self.dispute = {"consent": True, "consent_note": note}

    def refer_to_dispute(self, provider: str, method: str) -> None:
        require_status(self.status, ("reviewed",), "提交外部争议解决")
        if not self.dispute.get("consent"):
            raise ValidationFailed.single(
                "consent", "须先记录投诉人的知情同意，才能提交外部争议解决"
            )
        self._referred_to_dispute(
            require_text(provider, "provider", "争议解决机构", 100),
            require_choice(method, "method", "争议解决方式", DISPUTE_METHODS),
        )

    @event("ReferredToDispute")
    def _referred_to_dispute(self, provider, method) -> None:
        self.dispute = {**self.dispute, "provider": provider, "method": method}
        self._move("in_dispute")

    def record_dispute_outcome(self, outcome: str) -> None:
        require_status(self.status, ("in_dispute",), "记录争议解决结果")
        self._dispute_concluded(require_text(outcome, "outcome", "争议解决结果"))

    @event("DisputeConcluded")
    def _dispute_concluded(self, outcome) -> None:
        self.dispute = {**self.dispute, "outcome": outcome}
        self._closed("dispute_concluded")

    @event("Closed")
    def _closed(self, reason: str) -> None:
        self.closed_reason = reason
        self._move("closed")

    # -- improvement (ISO 10002 8.8) ----------------------------------------

    def agree_corrective_action(self, action: str, owner: str) -> None:
        require_status(self.status, AFTER_DECISION, "确定纠正措施")
        self._corrective_action_agreed(
            require_text(action, "action", "纠正措施"),
            require_text(owner, "owner", "责任人", 60),
            {
                "number": self.number,
                "outcome": self.decision["outcome"],
                "demand_id": self.links.get("demand_id", ""),
                "institution_id": self.links.get("institution_id", ""),
            },
        )

    @event("CorrectiveActionAgreed")
    def _corrective_action_agreed(self, action, owner, context: dict) -> None:
        """``context`` travels with the event: evaluation's improvement item."""
        self.corrective_actions.append({"action": action, "owner": owner})

    # -- deadlines ------------------------------------------------------------

    @property
    def policy_version(self) -> int | None:
        """The version judged by (None: received before policies were kept,
        judged by the defaults)."""
        return (getattr(self, "policy", None) or {}).get("version")

    def deadline_days(self) -> dict[str, int]:
        """Working days of each stage: the policy's, else the defaults."""
        limits = (getattr(self, "policy", None) or {}).get("limits", {})
        return {
            stage: int(limits.get(key, DEADLINES[stage]))
            for stage, key in DEADLINE_LIMITS.items()
        }

    def deadlines(self, calendar: WorkingCalendar | None = None) -> dict:
        cal = calendar or WorkingCalendar()
        start = datetime.fromisoformat(self.received_at)
        return {
            stage: cal.deadline(start, n) for stage, n in self.deadline_days().items()
        }

    def stage_done(self, stage: str) -> bool:
        """Whether the stage a deadline is set for (9.4) is behind it."""
        if stage == "acknowledge":
            return self.status != "received"
        if stage == "respond":
            return self.communicated
        return self.status == "closed"

    def overdue_stages(self, now: datetime, calendar=None) -> list[str]:
        now = aware(now, "now")
        return [
            stage
            for stage, due in self.deadlines(calendar).items()
            if not self.stage_done(stage) and now > due
        ]

    def escalate_overdue(self, now: datetime, calendar=None) -> list[str]:
        """Record an ``Escalated`` event per overdue stage not yet escalated."""
        due = self.deadlines(calendar)
        fresh = [
            s
            for s in self.overdue_stages(now, calendar)
            if s not in self.escalated_stages
        ]
        for stage in fresh:
            self._overdue_escalated(stage, due[stage].isoformat())
        return fresh

    @event("Escalated")
    def _overdue_escalated(self, stage: str, deadline: str) -> None:
        self.escalated_stages.append(stage)

    def remind_due(self, now: datetime, lead: timedelta, calendar=None) -> list[str]:
        """A ``Reminded`` event per open stage whose deadline is within
        ``lead`` of ``now`` and not yet past; once per stage."""
        now = aware(now, "now")
        fresh = [
            stage
            for stage, due in self.deadlines(calendar).items()
            if not self.stage_done(stage)
            and due - lead <= now <= due
            and stage not in self.reminded_stages
        ]
        for stage in fresh:
            self._reminded(stage, self.deadlines(calendar)[stage].isoformat())
        return fresh

    @event("Reminded")
    def _reminded(self, stage: str, deadline: str) -> None:
        self.reminded_stages.append(stage)

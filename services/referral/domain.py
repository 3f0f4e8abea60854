"""Referral domain: one referral per (demand, service item) (8.3.4, 8.3.5).

A referral always has an owner, a deadline and a trail. Its life cycle:
requested → matched → sent → signed for (accepted) or returned (with a reason,
then re-routed) → in progress (stages) → completed (report issued) → feedback
delivered to the demand's first responder; also on hold, cancelled, failed.
Every rule is checked before an event is stored; an invalid transition is
refused naming ``status``. Who may do what is checked by the application.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.referral import reports
from services.referral.contract import PROGRESS_STAGES, WITH_PARTNER
from services.referral.rules import (
    MAX_EXTENSION_DAYS,
    OPEN,
    RULING_AFTER_RETURNS,
    acceptance_days,
    completion_days,
    require_status,
)
from shared.application import AuditedAggregate
from shared.calendar import WorkingCalendar
from shared.errors import ValidationFailed
from shared.qualification import QualificationView
from shared.validation import aware, optional_text, require_choice, require_text

STAGE_STATUS = {"acceptance": ("sent",), "completion": ("accepted", "in_progress")}


class Referral(AuditedAggregate):
    @staticmethod
    def create_id(demand_id: str, item_code: str) -> UUID:
        """One referral per demand and item: the id follows from both."""
        return uuid5(NAMESPACE_URL, f"qi-onestop:referral:{demand_id}:{item_code}")

    class Requested(AuditedAggregate.Created):
        """v2 added the kind, requester, first responder, the referring
        institution, the green channel and the item's cycle."""

        class_version = 2
        demand_id: str
        item_code: str
        description: str
        kind: str
        requester: dict
        first_responder: str
        origin_institution: str
        green_channel: bool
        cycle_days: int

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.setdefault("kind", "demand")
            state.setdefault("requester", {"kind": "customer", "name": ""})
            state.setdefault("first_responder", "")
            state.setdefault("origin_institution", "")
            state.setdefault("green_channel", False)
            state.setdefault("cycle_days", 0)

    @event("Requested")
    def __init__(
        self,
        demand_id: str,
        item_code: str,
        description: str,
        kind: str,
        requester: dict,
        first_responder: str,
        origin_institution: str,
        green_channel: bool,
        cycle_days: int,
    ):
        self.demand_id = demand_id
        self.item_code = item_code
        self.description = description
        self.kind = kind
        self.requester = dict(requester)
        self.first_responder = first_responder
        self.origin_institution = origin_institution
        self.green_channel = bool(green_channel)
        self.cycle_days = int(cycle_days)
        self.status = "requested"
        self.stage = ""
        self.assignee: dict | None = None
        self.candidates: list[dict] = []
        self.tried: list[str] = []
        self.returns: list[dict] = []
        self.ruling: dict | None = None
        self.sent_at = self.accepted_at = self.completed_at = ""
        self.acceptance_due = self.completion_due = ""
        self.extension: dict | None = None
        self.extensions: list[dict] = []
        self.reminded: list[str] = []
        self.escalated: list[str] = []
        self.flags: list[dict] = []
        self.progress: list[dict] = []
        self.report: dict | None = None
        self.replaced_reports: list[dict] = []
        self.feedback: dict | None = None
        self.held_from = ""
        self.closing_reason = ""

    @classmethod
    def request(cls, demand_id: str, item_code: str, **details) -> Referral:
        return cls._create(
            cls.Requested,
            id=cls.create_id(demand_id, item_code),
            demand_id=demand_id,
            item_code=item_code,
            **details,
        )

    # -- routing: match, pick, expert, send, return, ruling (4.1, 8.3.4) ----

    @property
    def assignee_id(self) -> str:
        return self.assignee["id"] if self.assignee else ""

    def facts(self) -> dict:
        """What the published events say of the referral (no personal data)."""
        return {
            "referral_id": str(self.id),
            "demand_id": self.demand_id,
            "kind": self.kind,
            "item_code": self.item_code,
            "institution_id": (self.assignee or {}).get("institution_id", ""),
            "assignee_kind": (self.assignee or {}).get("kind", ""),
            "assignee_id": self.assignee_id,
            "first_responder": self.first_responder,
            "origin_institution": self.origin_institution,
            "sent_at": self.sent_at,
            "accepted_at": self.accepted_at,
            "acceptance_due": self.acceptance_due,
            "completion_due": self.completion_due,
        }

    def match(self, candidates: list[dict]) -> None:
        """The best-ranked qualified candidate, chosen by the platform."""
        require_status(self.status, ("requested", "returned"), "匹配承接机构")
        if not candidates:
            raise ValidationFailed.single("candidates", "暂无具备有效资质的承接机构")
        self._matched(dict(candidates[0]), [dict(c) for c in candidates], "auto", "")

    def pick(self, assignee: dict, candidates: list[dict], reason: str) -> None:
        """A staff member's choice of another qualified candidate or an expert;
        the application has checked it is one of ``candidates``."""
        require_status(self.status, ("requested", "matched", "returned"), "改选承接方")
        reason = require_text(reason, "reason", "改选理由")
        self._matched(dict(assignee), [dict(c) for c in candidates], "staff", reason)

    @event("Matched")
    def _matched(self, assignee: dict, candidates: list, by: str, reason: str):
        self.assignee = assignee
        self.candidates = candidates
        self.status = "matched"

    def apply_policy(self, version: int, limits: dict) -> None:
        """The service policy this referral is judged by (its institution's,
        in force when it was opened): recorded once, never moved."""
        if getattr(self, "policy", None) is None:
            self._policy_applied(int(version), dict(limits))

    @event("PolicyApplied")
    def _policy_applied(self, version: int, limits: dict) -> None:
        self.policy = {"version": version, "limits": limits}

    def accept_days(self) -> int:
        """Working days to sign for it: the policy's, the green channel's."""
        if self.green_channel:
            return acceptance_days(True)
        limits = (getattr(self, "policy", None) or {}).get("limits", {})
        return int(limits.get("referral_accept_days", acceptance_days(False)))

    def send(self, at: datetime, calendar: WorkingCalendar) -> None:
        require_status(self.status, ("matched",), "派发")
        at = aware(at, "at")
        due = calendar.deadline(at, self.accept_days())
        self._sent(dict(self.assignee), at.isoformat(), due.isoformat(), self.facts())

    class Sent(AuditedAggregate.Event):
        """v2 carries the referral's facts: the published ReferralSent."""

        class_version = 2
        assignee: dict
        at: str
        acceptance_due: str
        facts: dict

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.setdefault("facts", {})

    @event(Sent)
    def _sent(self, assignee: dict, at: str, acceptance_due: str, facts: dict):
        self.assignee = assignee
        self.sent_at = at
        self.acceptance_due = acceptance_due
        self.status = "sent"

    def accept(self, at: datetime, calendar: WorkingCalendar) -> None:
        """Signed for: the completion clock starts (the item's cycle)."""
        require_status(self.status, ("sent",), "签收")
        at = aware(at, "at")
        days = completion_days(self.cycle_days, self.green_channel)
        due = calendar.deadline(at, days).isoformat()
        self._accepted(at.isoformat(), due, self.facts())

    class Accepted(AuditedAggregate.Event):
        """v2 carries the referral's facts: the published ReferralAccepted."""

        class_version = 2
        at: str
        completion_due: str
        facts: dict

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.setdefault("facts", {})

    @event(Accepted)
    def _accepted(self, at: str, completion_due: str, facts: dict) -> None:
        self.accepted_at = at
        self.completion_due = completion_due
        self.status = "accepted"

    def decline(self, reason: str) -> None:
        require_status(self.status, ("sent",), "退回")
        if self.ruling and self.ruling["institution_id"] == self.assignee_id:
            raise ValidationFailed.single(
                "status", "经服务管理人员裁定由本机构承办，不能退回"
            )
        self._returned(
            self.assignee_id, require_text(reason, "reason", "退回原因"), False
        )

    @event("Returned")
    def _returned(self, assignee_id: str, reason: str, timed_out: bool) -> None:
        self.returns.append(
            {"assignee_id": assignee_id, "reason": reason, "timed_out": timed_out}
        )
        if assignee_id not in self.tried:
            self.tried.append(assignee_id)
        self.status = "returned"
        self.acceptance_due = ""
        self.extension = None

    def may_be_ruled(self, untried_left: bool) -> bool:
        return len(self.returns) >= RULING_AFTER_RETURNS or not untried_left

    def rule(self, assignee: dict, reason: str, untried_left: bool) -> None:
        """A manager rules which institution is responsible; it cannot return
        the referral again. The application checks role and qualification."""
        require_status(self.status, ("matched", "sent", "returned"), "裁定责任机构")
        if not self.may_be_ruled(untried_left):
            raise ValidationFailed.single(
                "status",
                f"退回{RULING_AFTER_RETURNS}次以上或已无其他可选机构时方可裁定",
            )
        reason = require_text(reason, "reason", "裁定理由")
        self._ruled(dict(assignee), reason)

    @event("ResponsibleRuled")
    def _ruled(self, assignee: dict, reason: str) -> None:
        self.ruling = {"institution_id": assignee["id"], "reason": reason}
        self.assignee = assignee
        self.status = "matched"

    # -- service by the partner ----------------------------------------------

    def report_progress(self, stage: str, note: str = "") -> None:
        require_status(self.status, ("accepted", "in_progress"), "报告办理进度")
        stage = require_choice(stage, "stage", "办理阶段", PROGRESS_STAGES)
        self._progressed(stage, optional_text(note, "note", "说明"))

    @event("ProgressReported")
    def _progressed(self, stage: str, note: str) -> None:
        self.stage = stage
        self.progress.append({"stage": stage, "note": note})
        self.status = "in_progress"

    def complete(self, report: dict, at: datetime, code: str) -> None:
        """The report is issued: number, issue date, e-report hash, code (7.4.4)."""
        require_status(self.status, ("accepted", "in_progress"), "办结")
        at = aware(at, "at")
        checked = reports.check(report, at.date())
        on_time = at <= datetime.fromisoformat(self.completion_due)
        self._completed(
            {**checked, "verification_code": code},
            at.isoformat(),
            on_time,
            self.facts(),
        )

    @event("Completed")
    def _completed(self, report: dict, at: str, on_time: bool, facts: dict) -> None:
        """``facts`` travel with the event: the published ReferralCompleted."""
        self.report = {**report, "status": "valid"}
        self.completed_at = at
        self.status = "completed"

    @property
    def on_time(self) -> bool | None:
        if not self.completed_at:
            return None
        return datetime.fromisoformat(self.completed_at) <= datetime.fromisoformat(
            self.completion_due
        )

    def deliver_feedback(self, summary: str) -> None:
        """The result goes back to the demand's first responder (closed loop)."""
        require_status(self.status, ("completed",), "反馈结果")
        summary = require_text(summary, "summary", "反馈内容", 2000)
        facts = {**self.facts(), "report_no": self.report["report_no"]}
        facts["verification_code"] = self.report["verification_code"]
        facts["on_time"] = self.on_time
        self._feedback(self.first_responder, summary, facts)

    @event("FeedbackDelivered")
    def _feedback(self, first_responder: str, summary: str, facts: dict) -> None:
        self.feedback = {"first_responder": first_responder, "summary": summary}
        self.status = "feedback_delivered"

    def replace_report(self, report: dict, at: datetime, code: str) -> None:
        require_status(self.status, ("completed", "feedback_delivered"), "更换报告")
        if self.report["status"] != "valid":
            raise ValidationFailed.single("report", "报告已撤销，不能更换")
        checked = reports.check(report, aware(at, "at").date())
        if checked["report_no"] == self.report["report_no"]:
            raise ValidationFailed.single("report_no", "更换后的报告应有新的报告编号")
        self._report_replaced({**checked, "verification_code": code})

    @event("ReportReplaced")
    def _report_replaced(self, report: dict) -> None:
        self.replaced_reports.append({**self.report, "status": "replaced"})
        self.report = {**report, "status": "valid"}

    def revoke_report(self, reason: str) -> None:
        require_status(self.status, ("completed", "feedback_delivered"), "撤销报告")
        if self.report["status"] != "valid":
            raise ValidationFailed.single("report", "报告已撤销")
        self._report_revoked(require_text(reason, "reason", "撤销原因"))

    @event("ReportRevoked")
    def _report_revoked(self, reason: str) -> None:
        self.report = {**self.report, "status": "revoked", "revoked_reason": reason}

    # -- hold, cancel, fail ----------------------------------------------------

    def hold(self, reason: str) -> None:
        require_status(
            self.status, ("matched", "sent", "accepted", "in_progress"), "挂起"
        )
        self._held(require_text(reason, "reason", "挂起原因"), self.status)

    @event("PutOnHold")
    def _held(self, reason: str, previous: str) -> None:
        self.held_from = previous
        self.status = "on_hold"

    def resume(self) -> None:
        require_status(self.status, ("on_hold",), "恢复办理")
        self._resumed(self.held_from)

    @event("Resumed")
    def _resumed(self, status: str) -> None:
        self.status = status
        self.held_from = ""

    def cancel(self, reason: str) -> None:
        require_status(self.status, (*OPEN, "on_hold"), "撤销")
        self._cancelled(require_text(reason, "reason", "撤销原因"))

    @event("Cancelled")
    def _cancelled(self, reason: str) -> None:
        self.closing_reason = reason
        self.status = "cancelled"

    def fail(self, reason: str) -> None:
        require_status(self.status, ("accepted", "in_progress", "on_hold"), "终止")
        self._failed(require_text(reason, "reason", "无法完成的原因"))

    @event("Failed")
    def _failed(self, reason: str) -> None:
        self.closing_reason = reason
        self.status = "failed"

    # -- qualification changes while open (4.1) ---------------------------------

    def is_open_with(self, institution_id: str) -> bool:
        return (
            self.status in ("matched", *WITH_PARTNER)
            and self.assignee is not None
            and institution_id in (self.assignee["id"], self.assignee["institution_id"])
        )

    def flag_qualification(self, institution_id, cert_no, change, effective_on, reason):
        """The assignee's qualification for this item was suspended or revoked:
        flagged on the referral, and the manager alerted (the published event)."""
        self._qualification_flagged(
            institution_id, cert_no, change, effective_on, reason, self.facts()
        )

    def withdraw_unqualified(self, reason: str) -> None:
        """The assignee no longer holds a valid qualification for the item
        (4.1): the manager withdraws the referral from it, as a return, so it
        goes on to the next qualified candidate or to a ruling. The
        application has checked the qualification is really lost."""
        require_status(self.status, ("matched", *WITH_PARTNER), "因资质失效改派")
        reason = require_text(reason, "reason", "改派理由")
        self._returned(self.assignee_id, f"资质失效改派：{reason}", False)

    @event("QualificationFlagged")
    def _qualification_flagged(
        self, institution_id, cert_no, change, effective_on, reason, facts
    ):
        self.flags.append(
            {
                "institution_id": institution_id,
                "cert_no": cert_no,
                "change": change,
                "effective_on": effective_on,
                "reason": reason,
            }
        )

    # -- deadlines: extension, reminder, escalation ------------------------------

    def open_deadlines(self) -> dict[str, datetime]:
        """The deadlines running now: acceptance while sent, then completion."""
        if self.status == "sent":
            return {"acceptance": datetime.fromisoformat(self.acceptance_due)}
        if self.status in STAGE_STATUS["completion"]:
            return {"completion": datetime.fromisoformat(self.completion_due)}
        return {}

    def _deadline_key(self, stage: str, due: datetime) -> str:
        """One deadline: of this stage, of this sending (a re-routed referral
        is a new sending even if its deadline falls at the same time), due then
        (an extended deadline is a new one)."""
        return f"{stage}#{len(self.returns)}@{due.isoformat()}"

    def request_extension(self, stage: str, days, reason: str, now: datetime) -> None:
        """Asked before the deadline, with a reason; a manager approves it."""
        stage = require_choice(stage, "stage", "延期环节", STAGE_STATUS)
        require_status(self.status, STAGE_STATUS[stage], "申请该环节延期")
        if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
            raise ValidationFailed.single(
                "days", f"延期天数应为1到{MAX_EXTENSION_DAYS}个工作日"
            )
        if aware(now, "now") > self.open_deadlines()[stage]:
            raise ValidationFailed.single("now", "已超过期限，不能再申请延期")
        if self.extension is not None:
            raise ValidationFailed.single("extension", "已有待审批的延期申请")
        self._extension_requested(
            stage, days, require_text(reason, "reason", "延期理由")
        )

    @event("ExtensionRequested")
    def _extension_requested(self, stage: str, days: int, reason: str) -> None:
        self.extension = {"stage": stage, "days": days, "reason": reason}

    def decide_extension(self, approve: bool, note: str, calendar) -> None:
        if self.extension is None:
            raise ValidationFailed.single("extension", "没有待审批的延期申请")
        stage = self.extension["stage"]
        require_status(self.status, STAGE_STATUS[stage], "审批延期")
        due = None
        if approve:
            old = self.open_deadlines()[stage]
            due = calendar.deadline(old, self.extension["days"]).isoformat()
        self._extension_decided(
            bool(approve), optional_text(note, "note", "审批意见"), due
        )

    @event("ExtensionDecided")
    def _extension_decided(self, approved: bool, note: str, new_due) -> None:
        self.extensions.append({**self.extension, "approved": approved, "due": new_due})
        if approved:
            setattr(self, f"{self.extension['stage']}_due", new_due)
        self.extension = None

    def remind_due(self, now: datetime, lead: timedelta) -> list[str]:
        """A ``Reminded`` per running deadline within ``lead`` of ``now``; once
        per deadline (an extended deadline is a new one)."""
        fresh = []
        for stage, due in self.open_deadlines().items():
            key = self._deadline_key(stage, due)
            if due - lead <= now <= due and key not in self.reminded:
                self._reminded(stage, due.isoformat(), key, self.facts())
                fresh.append(stage)
        return fresh

    class Reminded(AuditedAggregate.Event):
        """v2 carries the referral's facts: the published ReferralDueSoon."""

        class_version = 2
        stage: str
        due: str
        key: str
        facts: dict

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.setdefault("facts", {})

    @event(Reminded)
    def _reminded(self, stage: str, due: str, key: str, facts: dict) -> None:
        self.reminded.append(key)

    def escalate_overdue(self, now: datetime) -> list[str]:
        """An ``Escalated`` (to the manager) per passed deadline, once each."""
        fresh = []
        for stage, due in self.open_deadlines().items():
            key = self._deadline_key(stage, due)
            if now > due and key not in self.escalated:
                self._escalated(stage, due.isoformat(), key, self.facts())
                fresh.append(stage)
        return fresh

    def escalate_unroutable(self) -> bool:
        """Returned with no untried qualified candidate: the manager must rule.
        Once per return."""
        key = f"routing@{len(self.returns)}"
        if self.status != "returned" or key in self.escalated:
            return False
        self._escalated("routing", "", key, self.facts())
        return True

    def escalate_unsent(self, now: datetime, limit_hours: float, calendar) -> bool:
        """Opened but still waiting for a partner (``requested``) or to be sent
        (``matched``) ``limit_hours`` office hours after it was opened or last
        returned: the manager is told, once per such wait (8.3.4)."""
        if self.status not in ("requested", "matched"):
            return False
        key = f"sending#{len(self.returns)}"
        if key in self.escalated:
            return False
        if calendar.working_hours_between(self.created_on, now) < limit_hours:
            return False
        due = calendar.add_working_hours(self.created_on, limit_hours)
        self._escalated("sending", due.isoformat(), key, self.facts())
        return True

    @event("Escalated")
    def _escalated(self, stage: str, due: str, key: str, facts: dict) -> None:
        self.escalated.append(key)

    def time_out(self) -> None:
        """Not signed for in time: returned, to be re-routed (8.3.4)."""
        require_status(self.status, ("sent",), "超时退回")
        if self.ruling and self.ruling["institution_id"] == self.assignee_id:
            return  # a ruled institution keeps it; the escalation stands
        self._returned(self.assignee_id, "签收超时", True)


class PartnerStanding(AuditedAggregate):
    """Referral's own record of a partner's qualifications, fed by catalog (4.1).

    Catalog's events may arrive out of order; each certificate keeps the source
    position of the last change applied, and older changes are ignored.
    """

    @staticmethod
    def create_id(institution_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"qi-onestop:partner-standing:{institution_id}")

    @event("Opened")
    def __init__(self, institution_id: str):
        self.institution_id = institution_id
        self.certificates: dict[str, dict] = {}

    def is_newer(self, cert_no: str, position: int) -> bool:
        return position > self.certificates.get(cert_no, {}).get("position", 0)

    @event("QualificationNoted")
    def note(self, cert_no: str, change: str, details: dict, position: int) -> None:
        """Apply catalog's change ``change`` to certificate ``cert_no``."""
        cert = self.certificates.setdefault(
            cert_no, {"cert_no": cert_no, "scope_codes": [], "history": []}
        )
        if change == "granted":
            for key in ("kind", "scope_codes", "valid_from", "valid_to"):
                cert[key] = details[key]
        elif change == "renewed":
            cert["valid_to"] = details["valid_to"]
        else:  # suspended / valid (reinstated) / revoked
            cert["history"].append([details["effective_on"], change])
            cert["history"].sort()
        cert["position"] = position

    def qualifications(self) -> list[QualificationView]:
        return [
            QualificationView.from_state(c)
            for c in self.certificates.values()
            if "valid_from" in c
        ]

    def qualifies(self, item_code: str, day: date) -> bool:
        return any(q.qualifies(item_code, day) for q in self.qualifications())

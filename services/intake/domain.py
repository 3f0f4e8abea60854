"""Intake domain: the demand, from registration to resolution.

Every rule staff are audited on is enforced here, before an event is stored:
first-responder ownership and hand-over (7.4.2), follow-ups (8.3.5), the
one-time notification of missing materials (7.4.3).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from services.intake.registration import (
    APPENDIX_B_LINES,
    RegistrationForm,
    new_progress_code,
)
from services.intake.rules import OUTCOMES, REVIEW_POINTS, require_text
from shared.application import AuditedAggregate
from shared.errors import ValidationFailed


class Demand(AuditedAggregate):
    """A customer's demand, from registration to resolution."""

    class Registered(AuditedAggregate.Created):
        """Appendix B's form as registered. v2 added the form's other lines;
        v3 the receiving institution, whose staff own the demand (7.3.3)."""

        class_version = 3
        applicant: str
        contact_phone: str
        channel: str
        needs: list
        progress_code: str
        customer_kind: str
        credit_code: str
        address: str
        contact_person: str
        position: str
        service_staff: str
        feedback_time: str
        main_business: str
        institution: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            for field in (*APPENDIX_B_LINES, "credit_code"):
                state.setdefault(field, "")
            state.setdefault("customer_kind", "company")

        @staticmethod
        def upcast_v2_v3(state: dict) -> None:
            state.setdefault("institution", "")

    @event("Registered")
    def __init__(
        self,
        applicant: str,
        contact_phone: str,
        channel: str,
        needs: list,
        progress_code: str,
        customer_kind: str,
        credit_code: str,
        address: str,
        contact_person: str,
        position: str,
        service_staff: str,
        feedback_time: str,
        main_business: str,
        institution: str = "",
    ):
        self.institution = institution
        self.applicant = applicant
        self.contact_phone = contact_phone
        self.channel = channel
        self.needs = needs
        self.progress_code = progress_code
        self.customer_kind = customer_kind
        self.credit_code = credit_code
        self.address = address
        self.contact_person = contact_person
        self.position = position
        self.service_staff = service_staff
        self.feedback_time = feedback_time
        self.main_business = main_business
        self.status = "registered"
        self.owner: str | None = None
        self.handover: dict | None = None  # a pending offer
        self.follow_ups: list[dict] = []
        self.notices: list[dict] = []
        # since the first notice of the current request: its checklist, what
        # notices listed, and what the customer supplied
        self.checklist_at_first_notice: list[str] | None = None
        self.listed: list[str] = []
        self.supplied_since_first_notice: list[str] = []
        self.outstanding: list[str] = []
        self.notice_violations: list[dict] = []
        self.materials_complete_at = None
        self.green_channel: dict | None = None
        self.contract_review: dict | None = None
        self.triage: dict | None = None
        self.resolution: dict | None = None

    @classmethod
    def register(
        cls,
        form: RegistrationForm,
        demand_id: UUID | None = None,
        institution: str = "",
    ) -> Demand:
        kwargs = {
            **form.as_event_fields(),
            "progress_code": new_progress_code(),
            "institution": institution,
        }
        if demand_id is not None:
            return cls._create(cls.Registered, id=demand_id, **kwargs)
        return cls(**kwargs)

    def registration(self) -> dict:
        """The form as registered, line by line (Appendix B)."""
        return {
            field: getattr(self, field)
            for field in (
                "applicant",
                "contact_phone",
                "channel",
                "needs",
                "customer_kind",
                "credit_code",
                *APPENDIX_B_LINES,
            )
        }

    def same_registration(self, form: RegistrationForm) -> bool:
        return self.registration() == form.as_event_fields()

    # -- first responder (7.4.2) -------------------------------------------

    def take(self, staff_id: str) -> None:
        """The first staff member who takes the demand owns it, whether or not
        it is within their duties."""
        require_text(staff_id, "staff_id", "服务人员")
        if self.owner is not None:
            raise ValidationFailed.single("owner", f"该需求已由 {self.owner} 首问负责")
        self._taken(staff_id)

    @event("Taken")
    def _taken(self, staff_id: str) -> None:
        self.owner = staff_id

    def _require_owner(self, staff_id: str, doing: str) -> None:
        if self.owner is None:
            raise ValidationFailed.single("owner", "该需求尚无首问负责人，请先受理")
        if staff_id != self.owner:
            raise ValidationFailed.single(
                "staff_id", f"只有首问负责人 {self.owner} 可以{doing}"
            )

    def offer_handover(self, staff_id: str, to_staff: str, reason: str) -> None:
        """Ownership moves only by an explicit hand-over with a reason."""
        self._require_owner(staff_id, "移交")
        require_text(to_staff, "to_staff", "接收人")
        require_text(reason, "reason", "移交原因")
        if to_staff == self.owner:
            raise ValidationFailed.single("to_staff", "不能移交给自己")
        if self.handover is not None:
            raise ValidationFailed.single(
                "handover", f"已有待 {self.handover['to']} 接收的移交"
            )
        self._handover_offered(staff_id, to_staff, reason.strip())

    @event("HandoverOffered")
    def _handover_offered(self, from_staff: str, to_staff: str, reason: str) -> None:
        self.handover = {"from": from_staff, "to": to_staff, "reason": reason}

    def _require_receiver(self, staff_id: str) -> None:
        if self.handover is None:
            raise ValidationFailed.single("handover", "没有待接收的移交")
        if staff_id != self.handover["to"]:
            raise ValidationFailed.single(
                "staff_id", f"该移交只能由 {self.handover['to']} 接收"
            )

    def accept_handover(self, staff_id: str) -> None:
        self._require_receiver(staff_id)
        self._handover_accepted(staff_id)

    @event("HandoverAccepted")
    def _handover_accepted(self, staff_id: str) -> None:
        self.owner = staff_id
        self.handover = None

    def refuse_handover(self, staff_id: str, reason: str) -> None:
        """A refused hand-over leaves the demand with its owner."""
        self._require_receiver(staff_id)
        require_text(reason, "reason", "拒绝原因")
        self._handover_refused(staff_id, reason.strip())

    @event("HandoverRefused")
    def _handover_refused(self, staff_id: str, reason: str) -> None:
        self.handover = None

    def follow_up(self, staff_id: str, note: str) -> None:
        """The owner records each follow-up until resolution (8.3.5)."""
        self._require_owner(staff_id, "记录跟进")
        if self.status == "resolved":
            raise ValidationFailed.single("status", "需求已办结；如需继续请先重新办理")
        require_text(note, "note", "跟进记录", 2000)
        self._followed_up(staff_id, note.strip())

    @event("FollowedUp")
    def _followed_up(self, staff_id: str, note: str) -> None:
        self.follow_ups.append({"staff_id": staff_id, "note": note})

    # -- one-time notification (7.4.3) -------------------------------------

    def notify_materials(
        self,
        staff_id: str,
        checklist: list[str],
        provided: list[str],
        nonconforming: dict[str, str],
        contacts: str,
    ) -> list[str]:
        """List every missing or non-conforming material at once.

        A later notice may repeat what earlier ones listed, or ask for what is
        new since: a supplement found non-conforming, or materials of a changed
        request. Asking for anything else of the first checklist — it was
        missing or flawed then and should have been listed — breaks the rule:
        the notice is refused and counted against the issuer (``NoticeRefused``).
        """
        self._require_owner(staff_id, "发出材料告知")
        require_text(contacts, "contacts", "联系方式")
        unknown = sorted(set(nonconforming) - set(checklist))
        if unknown:
            raise ValidationFailed.single(
                "nonconforming", "不在材料清单中：" + "、".join(unknown)
            )
        missing = [m for m in checklist if m not in provided]
        requested = missing + [m for m in nonconforming if m not in missing]
        if not requested:
            raise ValidationFailed.single("provided", "材料已齐全，无需告知")
        late = self._late(requested)
        if late:
            self._notice_refused(staff_id, late)
            return late
        self._notice_issued(
            staff_id, requested, dict(nonconforming), contacts, checklist
        )
        return []

    def _late(self, requested: list[str]) -> list[str]:
        """What a later notice asks for that the first one should have listed."""
        if self.checklist_at_first_notice is None:
            return []
        return [
            m
            for m in requested
            if m in self.checklist_at_first_notice
            and m not in self.listed
            and m not in self.supplied_since_first_notice
        ]

    @event("MaterialsNoticeIssued")
    def _notice_issued(self, staff_id, requested, nonconforming, contacts, checklist):
        self.notices.append(
            {
                "staff_id": staff_id,
                "requested": list(requested),
                "nonconforming": dict(nonconforming),
                "contacts": contacts,
            }
        )
        if self.checklist_at_first_notice is None:
            self.checklist_at_first_notice = list(checklist)
        self.listed.extend(m for m in requested if m not in self.listed)
        self.outstanding = list(requested)
        self.materials_complete_at = None

    @event("NoticeRefused")
    def _notice_refused(self, staff_id: str, late: list[str]) -> None:
        self.notice_violations.append({"staff_id": staff_id, "late": list(late)})

    def supply_materials(self, items: list[str]) -> None:
        """The customer's supplements; complete materials restart the clock."""
        if not isinstance(items, list) or not items:
            raise ValidationFailed.single("items", "请列出补充的材料")
        unknown = [i for i in items if i not in self.outstanding]
        if unknown:
            raise ValidationFailed.single("items", "未告知需要：" + "、".join(unknown))
        self._materials_supplied(list(items))

    @event("MaterialsSupplied")
    def _materials_supplied(self, items: list[str]) -> None:
        self.outstanding = [m for m in self.outstanding if m not in items]
        self.supplied_since_first_notice.extend(items)
        if not self.outstanding:
            self.materials_complete_at = self.modified_on

    def change_request(self, needs: list[dict]) -> None:
        """The customer changed what they ask for; new materials may follow."""
        if not isinstance(needs, list) or not needs:
            raise ValidationFailed.single("needs", "请列出服务需求")
        self._request_changed([dict(n) for n in needs])

    @event("RequestChanged")
    def _request_changed(self, needs: list[dict]) -> None:
        self.needs = needs
        # a changed request starts a new first notice (7.4.3)
        self.checklist_at_first_notice = None
        self.listed = []
        self.supplied_since_first_notice = []

    # -- green channel (7.4.5) ---------------------------------------------

    def open_green_channel(self, manager_id: str, reason: str) -> None:
        """Priority handling with shorter targets; the caller checks the role."""
        require_text(reason, "reason", "开通原因", 500)
        if self.green_channel is not None:
            raise ValidationFailed.single("green_channel", "绿色通道已开通")
        self._green_channel_opened(manager_id, reason.strip())

    @event("GreenChannelOpened")
    def _green_channel_opened(self, manager_id: str, reason: str) -> None:
        self.green_channel = {"manager_id": manager_id, "reason": reason}

    # -- contract review (5.3.1.2) and triage (8.3.1–8.3.4) ----------------

    def review_contract(self, staff_id: str, checks: dict) -> bool:
        """A simple contract review: capability, method, cycle and fee."""
        self._require_owner(staff_id, "评审合同")
        if not isinstance(checks, dict) or set(checks) != set(REVIEW_POINTS):
            raise ValidationFailed.single(
                "checks", "评审应逐项给出：" + "、".join(REVIEW_POINTS.values())
            )
        bad = [k for k, v in checks.items() if not isinstance(v, bool)]
        if bad:
            raise ValidationFailed.single(
                f"checks.{bad[0]}", "应为通过(true)或不通过(false)"
            )
        self._contract_reviewed(staff_id, dict(checks))
        return all(checks.values())

    @event("ContractReviewed")
    def _contract_reviewed(self, staff_id: str, checks: dict) -> None:
        self.contract_review = {"staff_id": staff_id, "checks": checks}

    def decide(self, staff_id: str, outcome: str, details: dict) -> None:
        """Answer at once, serve in-house, or classify and refer (8.3.2–8.3.4)."""
        self._require_owner(staff_id, "分流处理")
        if self.status not in ("registered", "reopened"):
            raise ValidationFailed.single("status", "该需求已分流处理")
        if outcome not in OUTCOMES:
            raise ValidationFailed.single("outcome", "应为：" + "、".join(OUTCOMES))
        details = dict(details or {})
        if outcome == "answered":
            require_text(details.get("answer"), "answer", "答复内容", 2000)
        else:
            if self.outstanding:
                raise ValidationFailed.single(
                    "materials", "材料尚未补齐：" + "、".join(self.outstanding)
                )
            review = self.contract_review
            if review is None or not all(review["checks"].values()):
                raise ValidationFailed.single("contract_review", "合同评审未通过")
        if outcome == "in_house":
            require_text(details.get("department"), "department", "承办部门")
        if outcome == "referred":
            codes = [n["item_code"] for n in self.needs]
            items = details.get("items") or codes
            if not isinstance(items, list) or not set(items) <= set(codes):
                raise ValidationFailed.single("items", "转办事项应来自本需求的服务事项")
            details["items"] = items
            quote_id = details.get("quote_id", "")
            if not isinstance(quote_id, str) or len(quote_id) > 64:
                raise ValidationFailed.single("quote_id", "报价编号有误")
            details["green_channel"] = self.green_channel is not None
        self._decided(staff_id, outcome, details)

    @event("Decided")
    def _decided(self, staff_id: str, outcome: str, details: dict) -> None:
        self.triage = {"staff_id": staff_id, "outcome": outcome, **details}
        self.status = "resolved" if outcome == "answered" else OUTCOMES[outcome][1]

    # -- resolution and reopening (8.3.5) -----------------------------------

    def resolve(self, staff_id: str, summary: str) -> None:
        self._require_owner(staff_id, "办结")
        require_text(summary, "summary", "办结说明", 2000)
        if self.status in ("registered", "resolved"):
            raise ValidationFailed.single("status", "只能办结已分流且未办结的需求")
        outcome = (self.triage or {}).get("outcome", "")
        self._resolved(staff_id, summary.strip(), outcome)

    class Resolved(AuditedAggregate.Event):
        """The service ended. v2 names how it was served (the triage outcome)."""

        class_version = 2
        staff_id: str
        summary: str
        outcome: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.setdefault("outcome", "")

    @event(Resolved)
    def _resolved(self, staff_id: str, summary: str, outcome: str) -> None:
        self.status = "resolved"
        self.resolution = {"staff_id": staff_id, "summary": summary}

    def reopen(self, staff_id: str, reason: str) -> None:
        require_text(reason, "reason", "重新办理原因", 500)
        if self.status != "resolved":
            raise ValidationFailed.single("status", "只有已办结的需求可以重新办理")
        self._reopened(staff_id, reason.strip())

    @event("Reopened")
    def _reopened(self, staff_id: str, reason: str) -> None:
        self.status = "reopened"
        self.triage = None
        self.resolution = None

    # -- referral results for the owner (closed loop, 8.3.5) ------------------

    def record_referral_feedback(self, feedback: dict) -> bool:
        """A referral's result, for the demand's owner; once per referral."""
        known = getattr(self, "referral_feedback", [])
        if any(f["referral_id"] == feedback["referral_id"] for f in known):
            return False
        self._referral_feedback_received({**feedback, "for_staff": self.owner or ""})
        return True

    @event("ReferralFeedbackReceived")
    def _referral_feedback_received(self, feedback: dict) -> None:
        self.referral_feedback = [*getattr(self, "referral_feedback", []), feedback]

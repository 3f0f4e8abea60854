"""Intake domain: the demand, from registration to resolution.

Every rule staff are audited on is enforced here, before an event is stored:
first-responder ownership and hand-over (7.4.2), follow-ups (8.3.5), the
one-time notification of missing materials (7.4.3).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from services.intake.registration import APPENDIX_B_LINES, RegistrationForm
from services.intake.rules import DETAIL_FIELDS, OUTCOMES, REVIEW_POINTS
from shared.application import AuditedAggregate
from shared.codes import new_progress_code
from shared.errors import ConflictError, ValidationFailed
from shared.validation import require_text


class Demand(AuditedAggregate):
    """A customer's demand, from registration to resolution."""

    class Registered(AuditedAggregate.Created):
        """Appendix B's form as registered. v2 added the form's other lines;
        v3 the receiving institution, whose staff own the demand (7.3.3); v4
        the customer's e-mail, optional, where notices are sent (7.4.3)."""

        class_version = 4
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
        contact_email: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            for field in (*APPENDIX_B_LINES, "credit_code"):
                state.setdefault(field, "")
            state.setdefault("customer_kind", "company")

        @staticmethod
        def upcast_v2_v3(state: dict) -> None:
            state.setdefault("institution", "")

        @staticmethod
        def upcast_v3_v4(state: dict) -> None:
            state.setdefault("contact_email", "")

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
        contact_email: str = "",
    ):
        self.institution = institution
        self.contact_email = contact_email
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
                "contact_email",
            )
        }

    def same_registration(self, form: RegistrationForm) -> bool:
        return self.registration() == form.as_event_fields()

    def correct(self, staff_id: str, form: RegistrationForm, reason: str) -> None:
        """Staff correct the registered form (8.2.3, Appendix B): the form has
        passed the registration's rules; the event keeps the old and the new
        value of each line changed, who changed it and why, so the history
        still shows what was first registered."""
        require_text(staff_id, "staff_id", "服务人员", 200)
        require_text(reason, "reason", "更正原因", 500)
        if self.status == "resolved":
            raise ValidationFailed.single("status", "需求已办结；如需更正请先重新办理")
        if self.triage is not None and form.as_event_fields()["needs"] != self.needs:
            raise ValidationFailed.single(
                "needs", "需求已分流处理，不能再更改服务事项；如需更改请先重新办理"
            )
        old, new = self.registration(), form.as_event_fields()
        changed = [field for field in new if new[field] != old.get(field)]
        if not changed:
            raise ValidationFailed.single("body", "登记表没有任何改动")
        self._corrected(
            staff_id,
            reason.strip(),
            {field: old.get(field) for field in changed},
            {field: new[field] for field in changed},
        )

    @event("Corrected")
    def _corrected(self, staff_id: str, reason: str, before: dict, after: dict):
        # who corrected which lines and why; the values stay in the events
        self.corrections = [
            *getattr(self, "corrections", []),
            {"staff_id": staff_id, "reason": reason, "fields": sorted(after)},
        ]
        for field, value in after.items():
            setattr(self, field, value)
        if "needs" in after:
            # a changed request starts a new first notice (7.4.3)
            self.checklist_at_first_notice = None
            self.listed = []
            self.supplied_since_first_notice = []

    # -- first responder (7.4.2) -------------------------------------------

    def take(self, staff_id: str) -> None:
        """The first staff member who takes the demand owns it, whether or not
        it is within their duties."""
        require_text(staff_id, "staff_id", "服务人员", 200)
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
        require_text(to_staff, "to_staff", "接收人", 200)
        require_text(reason, "reason", "移交原因", 200)
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
        require_text(reason, "reason", "拒绝原因", 200)
        self._handover_refused(staff_id, reason.strip())

    @event("HandoverRefused")
    def _handover_refused(self, staff_id: str, reason: str) -> None:
        self.handover = None

    def withdraw_handover(self, staff_id: str, reason: str) -> None:
        """The offerer takes back a hand-over not yet answered (a mistyped or
        wrong receiver, 7.4.2): the demand stays with its owner."""
        if self.handover is None:
            raise ValidationFailed.single("handover", "没有待接收的移交")
        if staff_id != self.handover["from"]:
            raise ValidationFailed.single(
                "staff_id", f"只有提出移交的 {self.handover['from']} 可以撤回"
            )
        require_text(reason, "reason", "撤回原因", 200)
        self._handover_withdrawn(staff_id, self.handover["to"], reason.strip())

    @event("HandoverWithdrawn")
    def _handover_withdrawn(self, staff_id: str, to_staff: str, reason: str) -> None:
        self.handover = None

    def reassign(self, manager_id: str, to_staff: str, reason: str) -> None:
        """A manager gives the demand a new owner when its owner is absent or
        no longer at work (7.4.2): no demand is left without one who answers
        for it. The caller checks the role and that ``to_staff`` is an active
        account of the institution."""
        require_text(manager_id, "manager_id", "管理人员", 200)
        require_text(to_staff, "to_staff", "新负责人", 200)
        require_text(reason, "reason", "改派原因", 500)
        if self.status == "resolved":
            raise ValidationFailed.single("status", "需求已办结，无需改派")
        if to_staff == self.owner:
            raise ValidationFailed.single("to_staff", f"{to_staff} 已是首问负责人")
        self._reassigned(manager_id, self.owner or "", to_staff, reason.strip())

    @event("Reassigned")
    def _reassigned(
        self, manager_id: str, from_owner: str, to_owner: str, reason: str
    ) -> None:
        self.owner = to_owner
        self.handover = None  # an offer of the former owner no longer stands
        self.reassignments = [
            *getattr(self, "reassignments", []),
            {"by": manager_id, "from": from_owner, "to": to_owner, "reason": reason},
        ]

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
        require_text(contacts, "contacts", "联系方式", 200)
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

    def decide(
        self,
        staff_id: str,
        outcome: str,
        details: dict,
        due_at: str = "",
        open_referrals: list[dict] = (),
    ) -> None:
        """Answer at once, serve in-house, or classify and refer (8.3.2–8.3.4).

        ``details`` carry only what the staff member writes (``DETAIL_FIELDS``):
        what the command computes — outcome, staff, green channel, the
        in-house due date ``due_at`` (from the items' cycle on the working-day
        calendar) — cannot be set through them. An answer at once ends the
        service as a resolution does: not while ``open_referrals`` (referral's
        answer, as for ``resolve``) name any."""
        self._require_owner(staff_id, "分流处理")
        if not isinstance(details, dict | None):
            raise ValidationFailed.single("details", "分流说明应为对象")
        unknown = sorted(set(details or {}) - set(DETAIL_FIELDS))
        if unknown:
            raise ValidationFailed.single(f"details.{unknown[0]}", "不认识的字段")
        if self.status not in ("registered", "reopened"):
            raise ValidationFailed.single("status", "该需求已分流处理")
        if outcome not in OUTCOMES:
            raise ValidationFailed.single("outcome", "应为：" + "、".join(OUTCOMES))
        details = dict(details or {})
        if outcome == "answered":
            require_text(details.get("answer"), "answer", "答复内容", 2000)
            self._refuse_open_referrals(open_referrals)
        else:
            if self.outstanding:
                raise ValidationFailed.single(
                    "materials", "材料尚未补齐：" + "、".join(self.outstanding)
                )
            review = self.contract_review
            if review is None or not all(review["checks"].values()):
                raise ValidationFailed.single("contract_review", "合同评审未通过")
        if outcome == "in_house":
            require_text(details.get("department"), "department", "承办部门", 200)
            if due_at:
                details["due_at"] = due_at
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
        # computed fields last: an older event's details never override them
        self.triage = {**details, "staff_id": staff_id, "outcome": outcome}
        self.in_house_due = details.get("due_at", "") if outcome == "in_house" else ""
        self.in_house_reminded = self.in_house_escalated = ""
        self.status = "resolved" if outcome == "answered" else OUTCOMES[outcome][1]
        if outcome == "referred":
            # the items of every referral decision, in every round of the
            # demand (reopening keeps them): each has, or is about to have, its
            # referral, which stays the demand's until referral closes it
            known = getattr(self, "referred_items", [])
            self.referred_items = list(
                dict.fromkeys([*known, *details.get("items", [])])
            )

    # -- resolution and reopening (8.3.5) -----------------------------------

    def resolve(
        self, staff_id: str, summary: str, open_referrals: list[dict] = ()
    ) -> None:
        """End the service (8.3.5). Not while a referral of it is still open:
        the loop closes only when the partner's work is done (7.1.2, 8.3.5);
        the application asks referral which are open."""
        self._require_owner(staff_id, "办结")
        require_text(summary, "summary", "办结说明", 2000)
        if self.status in ("registered", "resolved"):
            raise ValidationFailed.single("status", "只能办结已分流且未办结的需求")
        self._refuse_open_referrals(open_referrals)
        outcome = (self.triage or {}).get("outcome", "")
        self._resolved(staff_id, summary.strip(), outcome)

    @staticmethod
    def _refuse_open_referrals(open_referrals: list[dict]) -> None:
        """409 naming each open referral (an unopened one has no id yet)."""
        if open_referrals:
            named = "、".join(
                f"{r['item_code']}（{r.get('state_label') or r['state']}"
                + (f"，{r['id']}）" if r.get("id") else "）")
                for r in open_referrals
            )
            raise ConflictError(f"尚有未办结的转办，不能办结需求：{named}")

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

    # -- in-house service deadline (8.3.2, 8.3.5) ------------------------------

    def remind_in_house(self, now, lead) -> bool:
        """A reminder to the owner once, within ``lead`` of the due date."""
        due = self._in_house_due()
        if due is None or self.in_house_reminded == due.isoformat():
            return False
        if not due - lead <= now <= due:
            return False
        self._in_house_reminded(*self._in_house_facts(), due.isoformat())
        return True

    def escalate_in_house(self, now) -> bool:
        """To the manager once, when the due date has passed unresolved."""
        due = self._in_house_due()
        if due is None or now <= due or self.in_house_escalated == due.isoformat():
            return False
        self._in_house_escalated(*self._in_house_facts(), due.isoformat())
        return True

    def _in_house_due(self) -> datetime | None:
        due = getattr(self, "in_house_due", "")
        if self.status != "in_service" or not due:
            return None
        return datetime.fromisoformat(due)

    def _in_house_facts(self) -> tuple[str, str, list[str]]:
        """Whom a reminder or escalation is for: the owner, the institution
        whose staff and managers are told, the items (ids only, 7.3.3)."""
        return (
            self.owner or "",
            self.institution,
            [n["item_code"] for n in self.needs],
        )

    class InHouseDeadlineEvent(AuditedAggregate.Event):
        """A due date's reminder or escalation (8.3.2, 8.3.5). v2 names the
        institution and the items, which intake publishes for notify."""

        class_version = 2
        owner: str
        institution: str
        items: list
        due: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.setdefault("institution", "")
            state.setdefault("items", [])

    class InHouseReminded(InHouseDeadlineEvent):
        """The owner was reminded of the due date."""

    @event(InHouseReminded)
    def _in_house_reminded(
        self, owner: str, institution: str, items: list, due: str
    ) -> None:
        self.in_house_reminded = due

    class InHouseEscalated(InHouseDeadlineEvent):
        """Past its due date unresolved: the managers were told (9.4)."""

    @event(InHouseEscalated)
    def _in_house_escalated(
        self, owner: str, institution: str, items: list, due: str
    ) -> None:
        self.in_house_escalated = due

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

"""Satisfaction surveys (9.2.1, Appendix C), call-backs and improvement items
(9.3). Every rule is checked before an event is stored; ids are derived from
what caused the aggregate, so the same cause can never open a second one.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from services.evaluation.contract import derived_id, improvement_item_id
from services.evaluation.rules import (
    CALL_BACK_WORKING_DAYS,
    IMPROVEMENT_SOURCES,
    SURVEY_STATUS,
    SURVEY_WORKING_DAYS,
    UNSATISFIED,
    rating_form,
    require_actions,
)
from shared.application import AuditedAggregate
from shared.calendar import WorkingCalendar
from shared.errors import ValidationFailed
from shared.validation import (
    aware,
    optional_text,
    require_choice,
    require_day,
    require_text,
)


class Survey(AuditedAggregate):
    """One satisfaction survey of one service that ended (a demand resolved or
    a referral completed); answered once by the applicant, within the window."""

    @staticmethod
    def create_id(source: str, key: str) -> UUID:
        return derived_id(f"survey:{source}", key)

    @event("Issued")
    def __init__(
        self,
        source: str,
        key: str,
        demand_id: str,
        referral_id: str,
        institution_id: str,
        staff_id: str,
        ended_at: str,
        due_at: str,
    ):
        self.source = source
        self.key = key
        self.demand_id = demand_id
        self.referral_id = referral_id
        self.institution_id = institution_id
        self.staff_id = staff_id
        self.ended_at = ended_at
        self.due_at = due_at
        self.status = "issued"
        self.rating: dict = {}
        self.reminded = False
        self.invited_at = ""  # when the rating link reached the applicant
        self.respondent = ""  # a task's requesting department, who rated

    @classmethod
    def issue(
        cls,
        source: str,
        key: str,
        facts: dict,
        calendar: WorkingCalendar,
        policy: dict | None = None,
    ) -> Survey:
        """Due at the close of the ``survey_days``-th working day (5 by
        default) after the service ended: the limit of ``policy``, the
        institution's service policy in force then ({version, limits}),
        recorded on the survey; None: the defaults, not recorded."""
        ended = aware(facts["ended_at"], "ended_at")
        limits = (policy or {}).get("limits", {})
        days = int(limits.get("survey_days", SURVEY_WORKING_DAYS))
        survey = cls(
            source=source,
            key=key,
            demand_id=facts["demand_id"],
            referral_id=facts.get("referral_id", ""),
            institution_id=facts.get("institution_id", ""),
            staff_id=facts.get("staff_id", ""),
            ended_at=ended.isoformat(),
            due_at=calendar.deadline(ended, days).isoformat(),
        )
        if policy is not None:
            survey._policy_applied(int(policy["version"]), dict(limits))
        return survey

    @event("PolicyApplied")
    def _policy_applied(self, version: int, limits: dict) -> None:
        """The service policy this survey is judged by (9.2.1)."""
        self.policy = {"version": version, "limits": limits}

    def limit(self, key: str, default: int) -> int:
        """A limit of the policy judged by (``default``: none recorded)."""
        limits = (getattr(self, "policy", None) or {}).get("limits", {})
        return int(limits.get(key, default))

    @property
    def due(self) -> datetime:
        return datetime.fromisoformat(self.due_at)

    def invitation_delivered(self, at: datetime, calendar: WorkingCalendar) -> bool:
        """9.2.1: the five working days run from when the invitation reached
        the applicant (e-mail or SMS sent), not from when it was stored; an
        applicant never reached keeps the window counted from the service's
        end. Once; never shortens the window, never reopens a rated one."""
        if self.invited_at or self.status != "issued":
            return False
        at = aware(at, "delivered_at")
        days = self.limit("survey_days", SURVEY_WORKING_DAYS)
        due = max(self.due, calendar.deadline(at, days))
        self._invitation_delivered(at.isoformat(), due.isoformat())
        return True

    @event("InvitationDelivered")
    def _invitation_delivered(self, delivered_at: str, due_at: str) -> None:
        self.invited_at = delivered_at
        self.due_at = due_at

    def _require_open(self, now: datetime) -> None:
        """A survey is rated once, before its due moment (9.2.1)."""
        if self.status == "rated":
            raise ValidationFailed.single("status", "该项服务已评价，不能重复评价")
        if self.status == "expired" or now > self.due:
            raise ValidationFailed.single(
                "status", f"评价期限已过（截止 {self.due_at}），不能再评价"
            )

    def rate(self, code_demand_id: str, form: dict, now: datetime) -> dict:
        """Only the holder of the demand's progress code, once, before the due
        moment; the form is checked before anything is stored."""
        now = aware(now, "now")
        if code_demand_id != self.demand_id:
            raise ValidationFailed.single(
                "code", "查询码与该项服务不符：只有服务申请人可以评价"
            )
        self._require_open(now)
        checked = rating_form(form)
        self._rated(**checked, rated_at=now.isoformat())
        return checked

    def rate_by_department(self, respondent: str, form: dict, now: datetime) -> dict:
        """A government task or recall support (5.2.2 b, 6.9) has no customer
        holding a progress code: the requesting department's rating, as it
        gave it, is recorded by the referring institution's staff (the
        gateway checks the task and the institution), once, in the window."""
        now = aware(now, "now")
        respondent = require_text(respondent, "respondent", "评价部门及联系人", 100)
        if self.source != "referral":
            raise ValidationFailed.single("survey", "只有转办任务可由委托部门评价")
        self._require_open(now)
        checked = rating_form(form)
        self._rated(**checked, rated_at=now.isoformat())
        self._respondent_noted(respondent)
        return checked

    @event("RespondentNoted")
    def _respondent_noted(self, respondent: str) -> None:
        self.respondent = respondent

    @event("Rated")
    def _rated(self, overall, dimensions, comments, rated_at) -> None:
        self.rating = {
            "overall": overall,
            "dimensions": dict(dimensions),
            "comments": comments,
            "rated_at": rated_at,
        }
        self.status = "rated"

    @property
    def unsatisfied(self) -> bool:
        return self.rating.get("overall") in UNSATISFIED

    def remind_due(self, now: datetime, lead) -> bool:
        """A ``Reminded`` event once, when the due moment is within ``lead``."""
        now = aware(now, "now")
        if self.status != "issued" or self.reminded:
            return False
        if not self.due - lead <= now <= self.due:
            return False
        self._reminded(self.due_at)
        return True

    @event("Reminded")
    def _reminded(self, due_at: str) -> None:
        self.reminded = True

    def expire(self, now: datetime) -> bool:
        """Past the due moment without a rating: ``Expired``, once."""
        if self.status != "issued" or aware(now, "now") <= self.due:
            return False
        self._expired(self.due_at)
        return True

    @event("Expired")
    def _expired(self, due_at: str) -> None:
        self.status = "expired"

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "source": self.source,
            "demand_id": self.demand_id,
            "referral_id": self.referral_id,
            "institution_id": self.institution_id,
            "staff_id": self.staff_id,
            "ended_at": self.ended_at,
            "due_at": self.due_at,
            "invited_at": self.invited_at,
            "respondent": self.respondent,
            "status": self.status,
            "status_label": SURVEY_STATUS[self.status],
            "rating": dict(self.rating),
            # the service policy it is judged by (None: the defaults)
            "policy_version": (getattr(self, "policy", None) or {}).get("version"),
        }


class CallBack(AuditedAggregate):
    """A call to a customer who rated a service unsatisfactory (9.2.1)."""

    @staticmethod
    def create_id(survey_id: str) -> UUID:
        return derived_id("call-back", survey_id)

    @event("Opened")
    def __init__(self, survey_id, demand_id, institution_id, staff_id, due_at):
        self.survey_id = survey_id
        self.demand_id = demand_id
        self.institution_id = institution_id
        self.staff_id = staff_id
        self.due_at = due_at
        self.status = "open"
        self.result: dict = {}

    @classmethod
    def for_survey(cls, survey: Survey, calendar: WorkingCalendar) -> CallBack:
        """Due ``call_back_days`` working days after the rating: the limit of
        the policy the survey is judged by (9.2.1)."""
        rated = aware(survey.rating["rated_at"], "rated_at")
        days = survey.limit("call_back_days", CALL_BACK_WORKING_DAYS)
        return cls(
            survey_id=str(survey.id),
            demand_id=survey.demand_id,
            institution_id=survey.institution_id,
            staff_id=survey.staff_id,
            due_at=calendar.deadline(rated, days).isoformat(),
        )

    def record(self, caller: str, note: str) -> None:
        if self.status != "open":
            raise ValidationFailed.single("status", "该回访已完成")
        self._done(
            require_text(caller, "caller", "回访人", 60),
            require_text(note, "note", "回访情况", 2000),
        )

    @event("Done")
    def _done(self, caller, note) -> None:
        self.result = {"caller": caller, "note": note}
        self.status = "done"

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "survey_id": self.survey_id,
            "demand_id": self.demand_id,
            "institution_id": self.institution_id,
            "staff_id": self.staff_id,
            "due_at": self.due_at,
            "status": self.status,
            "result": dict(self.result),
        }


def end_of_working_day(day_text, calendar: WorkingCalendar, field="deadline"):
    """A deadline given as a date is the close of office that day."""
    day = require_day(day_text, field, "期限")
    return datetime.combine(day, calendar.hours[-1][1], calendar.tz)


class ImprovementItem(AuditedAggregate):
    """An improvement or rectification item (9.3): a finding with an owner,
    actions and a deadline; progress recorded to closure; escalated once
    when overdue."""

    @staticmethod
    def create_id(source: str, ref: str) -> UUID:
        return improvement_item_id(source, ref)

    @event("Opened")
    def __init__(
        self,
        source: str,
        ref: str,
        institution_id: str,
        demand_id: str,
        staff_id: str,
        finding: str,
        owner: str,
        actions: list,
        deadline: str,
        opened_at: str,
    ):
        self.opened_at = opened_at
        self.source = source
        self.ref = ref
        self.institution_id = institution_id
        self.demand_id = demand_id
        self.staff_id = staff_id
        self.finding = finding
        self.owner = owner
        self.actions = list(actions)
        self.deadline = deadline
        self.status = "open"
        self.progress: list[dict] = []
        self.escalated = False
        self.closure: dict = {}

    @classmethod
    def open(cls, form: dict) -> ImprovementItem:
        """``policy`` (optional): the service policy in force when the item
        was opened, {version, limits}, whose ``improvement_days`` gave the
        deadline (9.3); recorded on the item."""
        source = require_choice(
            form.get("source"), "source", "来源", IMPROVEMENT_SOURCES
        )
        deadline = aware(form.get("deadline"), "deadline")
        item = cls(
            source=source,
            ref=require_text(form.get("ref"), "ref", "来源编号", 200),
            institution_id=optional_text(
                form.get("institution_id"), "institution_id", "机构"
            ),
            demand_id=optional_text(form.get("demand_id"), "demand_id", "需求编号"),
            staff_id=optional_text(form.get("staff_id"), "staff_id", "服务人员"),
            finding=require_text(form.get("finding"), "finding", "存在的问题", 2000),
            owner=optional_text(form.get("owner"), "owner", "责任人", 60),
            actions=require_actions(form["actions"]) if form.get("actions") else [],
            deadline=deadline.isoformat(),
            opened_at=aware(form.get("opened_at"), "opened_at").isoformat(),
        )
        policy = form.get("policy")
        if policy is not None:
            item._policy_applied(int(policy["version"]), dict(policy["limits"]))
        return item

    @event("PolicyApplied")
    def _policy_applied(self, version: int, limits: dict) -> None:
        self.policy = {"version": version, "limits": limits}

    def _require_open(self, doing: str) -> None:
        if self.status != "open":
            raise ValidationFailed.single("status", f"该整改事项已完成，不能{doing}")

    def plan(self, owner: str, actions, deadline: datetime) -> None:
        """The manager names the owner, the actions and the deadline."""
        self._require_open("修改整改计划")
        self._planned(
            require_text(owner, "owner", "责任人", 60),
            require_actions(actions),
            aware(deadline, "deadline").isoformat(),
        )

    @event("Planned")
    def _planned(self, owner, actions, deadline) -> None:
        self.owner = owner
        self.actions = list(actions)
        self.deadline = deadline

    def record_progress(self, note: str) -> None:
        self._require_open("记录进展")
        self._progress_recorded(require_text(note, "note", "整改进展", 2000))

    @event("ProgressRecorded")
    def _progress_recorded(self, note) -> None:
        self.progress.append({"note": note})

    def close(self, result: str) -> None:
        self._require_open("再次关闭")
        if not self.owner or not self.actions:
            raise ValidationFailed.single(
                "actions", "请先确定责任人和整改措施，再关闭整改事项"
            )
        self._closed(require_text(result, "result", "整改结果", 2000))

    @event("Closed")
    def _closed(self, result) -> None:
        self.closure = {"result": result}
        self.status = "closed"

    def escalate_overdue(self, now: datetime) -> bool:
        if self.status != "open" or self.escalated:
            return False
        if aware(now, "now") <= datetime.fromisoformat(self.deadline):
            return False
        self._escalated(self.deadline)
        return True

    @event("Escalated")
    def _escalated(self, deadline: str) -> None:
        self.escalated = True

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "source": self.source,
            "source_label": IMPROVEMENT_SOURCES[self.source],
            "ref": self.ref,
            "institution_id": self.institution_id,
            "demand_id": self.demand_id,
            "staff_id": self.staff_id,
            "finding": self.finding,
            "owner": self.owner,
            "actions": list(self.actions),
            "deadline": self.deadline,
            "opened_at": self.opened_at,
            "status": self.status,
            "progress": list(self.progress),
            "escalated": self.escalated,
            "closure": dict(self.closure),
            # the service policy its deadline came from (None: not recorded)
            "policy_version": (getattr(self, "policy", None) or {}).get("version"),
        }

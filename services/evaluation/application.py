"""Evaluation application (clause 9): the facts of other services kept per
case, surveys and their follow-up, improvement items, efficiency assessments
and half-year summaries. Commands are retried on conflict; integration events
are applied exactly once (``ServiceApplication.process``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select

from services.evaluation import figures, suggestions
from services.evaluation.domain import (
    CallBack,
    ImprovementItem,
    Survey,
    end_of_working_day,
)
from services.evaluation.invitations import DeliveredAt, deliveries
from services.evaluation.policies import PolicyCopyMixin, improvement_terms
from services.evaluation.policy import FactPolicy, existing
from services.evaluation.projections import EvaluationView
from services.evaluation.records import (
    EfficiencyAssessment,
    HalfYearSummary,
    require_manager,
)
from services.evaluation.rules import SURVEY_REMINDER_LEAD
from services.evaluation.tables import improvements, surveys
from shared import audit, calendar
from shared.application import ServiceApplication
from shared.calendar import calendar_from_env
from shared.envelope import Envelope
from shared.errors import NotFound, ValidationFailed
from shared.projection import ProjectionRunner
from shared.validation import aware

# intake's lookup of a progress code: {"demand_id": ...} or NotFound
CodeLookup = Callable[[str], dict]


def utcnow() -> datetime:
    """The platform's one clock (``shared.calendar.CLOCK``), in UTC."""
    return calendar.CLOCK().astimezone(UTC)


@contextmanager
def case_scope(demand_id: str):
    """What is done about a demand's service carries the demand as its case."""
    context = audit.current()
    if demand_id:
        context = context.with_correlation(demand_id)
    with audit.audit_scope(context):
        yield


class EvaluationApplication(PolicyCopyMixin, ServiceApplication):
    name = "evaluation"

    def __init__(self, url=None, env=None):
        super().__init__(url, env)
        self.view = ProjectionRunner(self, EvaluationView())
        self.calendar = calendar_from_env()

    def _existing(self, kind: type, aggregate_id):
        return existing(self.repository, kind, aggregate_id)

    @staticmethod
    def _uuid_or_none(value):
        try:
            return UUID(str(value))
        except ValueError:
            return None

    # -- facts from intake, referral and complaints ------------------------

    def on_fact(self, envelope: Envelope, read_action=None) -> bool:
        """Note a published fact in its case record; a resolved demand or a
        completed referral issues a survey, an agreed corrective action opens
        an improvement item (its text from ``read_action``, complaints'
        ``corrective_action``, for a v2 or v3 message). False for a duplicate."""
        return self.process(envelope, FactPolicy(self, self.calendar, read_action))

    # -- satisfaction (9.2.1) ----------------------------------------------

    def _survey(self, survey_id) -> Survey:
        return self.get_existing(survey_id, Survey, "survey")

    def rate(
        self, survey_id, code: str, form: dict, lookup: CodeLookup, now=None
    ) -> dict:
        """The applicant's rating, checked against the progress code they
        hold; an unsatisfied one opens a call-back and an improvement item in
        the same transaction, so each exists exactly once."""
        try:
            demand_id = lookup(str(code or "").strip())["demand_id"]
        except NotFound:
            raise ValidationFailed.single(
                "code", "查询码不正确：只有服务申请人可以评价"
            ) from None
        at = aware(now or utcnow(), "now")
        return self._rate_with_follow_up(
            survey_id, at, lambda s: s.rate(demand_id, form, at)
        )

    def rate_for_department(self, survey_id, respondent: str, form: dict) -> dict:
        """The requesting department's rating of a government or recall task
        (``Survey.rate_by_department``); unsatisfied, the same follow-up."""
        at = utcnow()
        return self._rate_with_follow_up(
            survey_id, at, lambda s: s.rate_by_department(respondent, form, at)
        )

    def _rate_with_follow_up(self, survey_id, at: datetime, rate) -> dict:
        """``rate(survey)`` on a fresh survey, then in one transaction the
        rating, an unsatisfied one's call-back and improvement item (9.2.1,
        9.3) and a suggestion's item; tried again on a version conflict."""

        def run():
            survey = self._survey(survey_id)
            rate(survey)
            changed = [survey]
            if survey.unsatisfied:
                changed += self._follow_up(survey, at)
            suggested = suggestions.item_for_rating(
                survey, at, self.calendar, self.repository
            )
            changed += [suggested] if suggested else []
            with case_scope(survey.demand_id):
                self.save(*changed)
            return {**survey.as_dict(), "follow_up": [str(a.id) for a in changed[1:]]}

        return self.retry_on_conflict(run)

    def _follow_up(self, survey: Survey, at: datetime) -> list:
        rating = survey.rating
        finding = f"客户对服务总体评价“{rating['overall']}”"
        if rating["comments"]:
            finding += f"：{rating['comments']}"
        item = ImprovementItem.open(
            {
                "source": "dissatisfaction",
                "ref": str(survey.id),
                "institution_id": survey.institution_id,
                "demand_id": survey.demand_id,
                "staff_id": survey.staff_id,
                "finding": finding,
                **improvement_terms(
                    self.repository, self.calendar, survey.institution_id, at
                ),
                "opened_at": at,
            }
        )
        return [CallBack.for_survey(survey, self.calendar), item]

    def survey(self, survey_id) -> dict:
        return self._survey(survey_id).as_dict()

    def surveys_for_code(self, code: str, lookup: CodeLookup) -> list[dict]:
        """The applicant's surveys of their demand, by the code they hold."""
        demand_id = lookup(str(code or "").strip())["demand_id"]
        self.view.catch_up()
        rows = self.kernel.query(
            select(surveys.c.survey_id)
            .where(surveys.c.case_id == demand_id)
            .order_by(surveys.c.ended_at)
        )
        return [self.survey(r["survey_id"]) for r in rows]

    def on_suggestion(self, envelope, read_text=None) -> bool:
        """A suggestion card: an improvement item with a deadline (9.3.1); its
        text from ``read_text`` (complaints' ``suggestion_text``) for v2."""

        def policy(envelope):
            item = suggestions.item_for_card(
                self.repository, envelope, self.calendar, read_text
            )
            return [item] if item else []

        return self.process(envelope, policy)

    def record_call_back(self, call_back_id, caller: str, note: str) -> dict:
        def run():
            call_back = self.get_existing(call_back_id, CallBack, "call-back")
            call_back.record(caller, note)
            with case_scope(call_back.demand_id):
                self.save(call_back)
            return call_back.as_dict()

        return self.retry_on_conflict(run)

    # -- improvement plans (9.3) ---------------------------------------------

    def _item(self, item_id) -> ImprovementItem:
        return self.get_existing(item_id, ImprovementItem, "improvement item")

    def open_improvement(self, form: dict) -> dict:
        """An item the manager opens from an efficiency finding: ``ref`` is the
        assessment's id, whose staff member the item concerns. Items from
        dissatisfaction and complaints open by themselves."""
        require_manager(audit.current().actor.role, "登记整改事项")
        form = dict(form or {})
        if form.get("source") != "efficiency":
            raise ValidationFailed.single(
                "source", "满意度和投诉的整改事项自动生成；此处只登记效能评价发现的问题"
            )
        assessment = self._existing(
            EfficiencyAssessment, self._uuid_or_none(form.get("ref"))
        )
        if assessment is None:
            raise ValidationFailed.single("ref", "请填写所依据的效能评价编号")
        form["staff_id"] = assessment.staff_id
        form["deadline"] = end_of_working_day(form.get("deadline"), self.calendar)
        form["opened_at"] = utcnow()
        for field in ("owner", "actions"):
            if not form.get(field):
                raise ValidationFailed.single(field, "请填写责任人和整改措施")
        item = ImprovementItem.open(form)
        with case_scope(item.demand_id):
            saved = self.save_if_new(item)
        if not saved:
            raise ValidationFailed.single("ref", "该来源已有整改事项")
        return item.as_dict()

    def change_improvement(self, item_id, command: str, **kwargs) -> dict:
        """``plan`` (owner, actions, deadline date), ``record_progress``
        (note) or ``close`` (result)."""
        if command not in ("plan", "record_progress", "close"):
            raise ValidationFailed.single("command", f"未知的操作：{command}")
        if command != "record_progress":  # the owner reports progress
            require_manager(audit.current().actor.role, "确定或关闭整改计划")
        if command == "plan":
            kwargs["deadline"] = end_of_working_day(
                kwargs.get("deadline"), self.calendar
            )

        def run():
            item = self._item(item_id)
            getattr(item, command)(**kwargs)
            with case_scope(item.demand_id):
                self.save(item)
            return item.as_dict()

        return self.retry_on_conflict(run)

    def improvement(self, item_id) -> dict:
        return self._item(item_id).as_dict()

    # -- deadlines: reminders, expiry, escalation ------------------------------

    def sweep(self, now=None, delivered_at: DeliveredAt | None = None) -> dict:
        """Note the invitations delivered since (``delivered_at``: notify's
        answer, see ``services.evaluation.invitations``), remind surveys about
        to fall due, expire overdue ones, escalate overdue improvement items;
        each once, whoever sweeps."""
        at = aware(now or utcnow(), "now")
        self.view.catch_up()
        done = {"invited": [], "reminded": [], "expired": [], "escalated": []}
        open_surveys = self.kernel.query(
            select(surveys.c.survey_id).where(surveys.c.status == "issued")
        )
        if delivered_at is not None:
            done["invited"] = self._note_invitations(
                [r["survey_id"] for r in open_surveys], delivered_at
            )
        for row in open_surveys:
            for kind in self.retry_on_conflict(
                lambda sid=row["survey_id"]: self._sweep_survey(sid, at)
            ):
                done[kind].append(row["survey_id"])
        item = improvements.c
        for row in self.kernel.query(
            select(item.item_id).where(item.status == "open", item.escalated == 0)
        ):
            if self.retry_on_conflict(
                lambda iid=row["item_id"]: self._escalate_item(iid, at)
            ):
                done["escalated"].append(row["item_id"])
        return done

    def _note_invitations(self, survey_ids, delivered_at: DeliveredAt) -> list[str]:
        noted = []
        for survey_id, moment in deliveries(survey_ids, delivered_at).items():

            def run(sid=survey_id, when=moment) -> bool:
                survey = self._survey(sid)
                if not survey.invitation_delivered(aware(when, "at"), self.calendar):
                    return False
                with case_scope(survey.demand_id):
                    self.save(survey)
                return True

            if self.retry_on_conflict(run):
                noted.append(survey_id)
        return noted

    def _sweep_survey(self, survey_id, at: datetime) -> list[str]:
        survey = self._survey(survey_id)
        kinds = []
        if survey.remind_due(at, SURVEY_REMINDER_LEAD):
            kinds.append("reminded")
        if survey.expire(at):
            kinds.append("expired")
        if kinds:
            with case_scope(survey.demand_id):
                self.save(survey)
        return kinds

    def _escalate_item(self, item_id, at: datetime) -> bool:
        item = self._item(item_id)
        if item.escalate_overdue(at):
            with case_scope(item.demand_id):
                self.save(item)
            return True
        return False

    # -- staff efficiency (9.2.2) --------------------------------------------

    def efficiency_figures(self, staff_id: str, since, until) -> dict:
        start, end = aware(since, "since"), aware(until, "until")
        self.view.catch_up()
        return figures.efficiency(self.kernel, self.calendar, staff_id, start, end)

    def efficiency_figures_of_staff(self, staff_ids, since, until) -> dict:
        """``efficiency_figures`` of every one of ``staff_ids``, by staff id
        (9.2.2), counted in one pass over the read model (the board's staff)."""
        if not isinstance(staff_ids, list) or not all(
            isinstance(staff, str) for staff in staff_ids
        ):
            raise ValidationFailed.single("staff_ids", "请列出服务人员")
        start, end = aware(since, "since"), aware(until, "until")
        self.view.catch_up()
        return figures.efficiency_of_staff(
            self.kernel, self.calendar, staff_ids, start, end
        )

    def assess_efficiency(self, staff_id: str, since, until) -> dict:
        """Compute and store the figures as they stand (EfficiencyAssessed)."""
        require_manager(audit.current().actor.role, "进行人员效能评价")
        if not isinstance(staff_id, str) or not staff_id.strip():
            raise ValidationFailed.single("staff_id", "请填写服务人员")
        computed = self.efficiency_figures(staff_id, since, until)
        key = (staff_id, computed["since"], computed["until"])

        def run():
            found = self._existing(
                EfficiencyAssessment, EfficiencyAssessment.create_id(*key)
            )
            if found is None:
                found = EfficiencyAssessment(
                    staff_id=staff_id, since=key[1], until=key[2], figures=computed
                )
            else:
                found.reassess(computed)
            self.save(found)
            return found.as_dict()

        return self.retry_on_conflict(run)

    def comment_efficiency(self, assessment_id, text: str) -> dict:
        actor = audit.current().actor

        def run():
            found = self.get_existing(
                assessment_id, EfficiencyAssessment, "efficiency assessment"
            )
            found.comment(actor.id, actor.role, text)
            self.save(found)
            return found.as_dict()

        return self.retry_on_conflict(run)

    def efficiency_assessment(self, assessment_id) -> dict:
        return self.get_existing(
            assessment_id, EfficiencyAssessment, "efficiency assessment"
        ).as_dict()

    # -- half-year summary (9.1.3) -------------------------------------------

    def draft_half_year(self, institution_id: str, year, half) -> dict:
        """Compute the half-year figures and store them as the draft (9.1.3)."""
        require_manager(audit.current().actor.role, "编写半年总结")
        if not isinstance(institution_id, str) or not institution_id.strip():
            raise ValidationFailed.single("institution_id", "请填写机构")
        if half not in (1, 2):
            raise ValidationFailed.single("half", "应为 1（上半年）或 2（下半年）")
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            raise ValidationFailed.single("year", "应为年份，如 2026")
        self.view.catch_up()
        computed = figures.half_year(
            self.kernel, self.calendar, institution_id, year, half
        )

        def run():
            summary_id = HalfYearSummary.create_id(institution_id, year, half)
            found = self._existing(HalfYearSummary, summary_id)
            if found is None:
                found = HalfYearSummary(
                    institution_id=institution_id,
                    year=year,
                    half=half,
                    figures=computed,
                )
            else:
                found.redraft(computed)
            self.save(found)
            return found.as_dict()

        return self.retry_on_conflict(run)

    def half_year_summary(self, summary_id) -> dict:
        return self.get_existing(
            summary_id, HalfYearSummary, "half-year summary"
        ).as_dict()

    def sign_off_half_year(self, summary_id, note: str) -> dict:
        actor = audit.current().actor

        def run():
            found = self.get_existing(summary_id, HalfYearSummary, "half-year summary")
            found.sign_off(actor.id, actor.role, note)
            self.save(found)
            return found.as_dict()

        return self.retry_on_conflict(run)

    # -- per-service records (9.1.2) -------------------------------------------

    def rebuild_view(self) -> int:
        return self.view.rebuild()

"""The manager's staff efficiency pages (9.2.2): the staff's figures over a
period, an assessment stored from them with the manager's comment, and the
improvement item opened from its finding (9.3).

Mixed into PagesRoutes; each page runs the use case of its JSON route
(``efficiency``): only a manager, only the manager's own institution's staff.
"""

from __future__ import annotations

from nameko.web.handlers import http

from services.evaluation.contract import IMPROVEMENT_STATUS
from services.gateway.pages.handlers import (
    html_errors,
    one_field_submitted,
    signed_in,
    submitted,
    with_csrf,
)
from services.gateway.pages.rendering import (
    field_errors,
    render,
    text,
)
from services.gateway.pages.work import efficiency_period, period_days
from services.gateway.usecases import efficiency
from shared import calendar
from shared.errors import ValidationFailed
from shared.validation import require_filled

ASSESSMENT_DONE = {
    "assessed": "效能评价已留存",
    "commented": "评价意见已记录",
    "improvement": "整改事项已登记，可在“回访与改进”中跟踪",
}
ASSESSMENTS = "/console/efficiency/assessments"


def _today():
    return calendar.today()


class EfficiencyPages:
    """Mixed into PagesRoutes."""

    def _efficiency_page(self, request, actor, status=200, **context):
        shown = context.pop("form", None) or {
            "since": text(request.args, "since"),
            "until": text(request.args, "until"),
        }
        errors = context.pop("errors", {})
        try:
            since, until = efficiency_period(shown["since"], shown["until"], _today())
        except ValidationFailed as exc:
            errors.update(field_errors(exc.errors))
            status = 400
            since, until = efficiency_period("", "", _today())
        staff = efficiency.own_staff(self, actor, since=since, until=until)
        days = period_days(since, until)
        return render(
            request,
            "efficiency.html",
            status,
            actor=actor,
            form={
                "since": shown["since"] or days[0],
                "until": shown["until"] or days[1],
            },
            errors=errors,
            period=days,
            staff=staff,
            **context,
        )

    @http("GET", "/console/efficiency")
    @html_errors
    def efficiency_page(self, request):
        """The manager's own staff: professionalism, timeliness, integrity and
        satisfaction over a period (as GET …/staff/{id}/efficiency)."""
        return self._efficiency_page(request, signed_in(self, request))

    @http("POST", "/console/efficiency/<string:staff_id>/assessments")
    @html_errors
    @with_csrf
    def efficiency_assess_submit(self, request, staff_id):
        """Store the period's figures as the staff member's assessment."""
        actor = signed_in(self, request)
        use = efficiency.assess
        found = use.check(self, actor, {"staff_id": staff_id})
        shown = {
            "since": text(request.form, "since"),
            "until": text(request.form, "until"),
        }

        def run():
            require_filled(
                {
                    "since": (shown["since"], "起始日期"),
                    "until": (shown["until"], "截止日期"),
                }
            )
            since, until = efficiency_period(shown["since"], shown["until"], _today())
            return use.run(
                self, actor, found, staff_id=staff_id, since=since, until=until
            )

        return submitted(
            run,
            lambda status, **context: self._efficiency_page(
                request, actor, status, **context
            ),
            lambda assessed: f"{ASSESSMENTS}/{assessed['id']}?done=assessed",
            shown=shown,
            errors_of=field_errors,
            conflicts=False,
        )

    def _assessment_page(self, request, actor, assessment_id, status=200, **context):
        found = efficiency.assessment_sheet(self, actor, assessment_id=assessment_id)
        assessment = found["assessment"]
        return render(
            request,
            "assessment.html",
            status,
            actor=actor,
            **found,
            period=period_days(assessment["since"], assessment["until"]),
            improvement_status=IMPROVEMENT_STATUS,
            form=context.pop("form", {}),
            done=ASSESSMENT_DONE.get(request.args.get("done", "")),
            **context,
        )

    @http("GET", ASSESSMENTS + "/<string:assessment_id>")
    @html_errors
    def assessment_page(self, request, assessment_id):
        actor = signed_in(self, request)
        return self._assessment_page(request, actor, assessment_id)

    @http("POST", ASSESSMENTS + "/<string:assessment_id>/comments")
    @html_errors
    @with_csrf
    def assessment_comment_submit(self, request, assessment_id):
        return one_field_submitted(
            self,
            request,
            efficiency.comment,
            {"assessment_id": assessment_id},
            "comment",
            "评价意见",
            lambda actor, status, **context: self._assessment_page(
                request, actor, assessment_id, status, **context
            ),
            f"{ASSESSMENTS}/{assessment_id}?done=commented",
            "comment",
        )

    @http("POST", ASSESSMENTS + "/<string:assessment_id>/improvements")
    @html_errors
    @with_csrf
    def assessment_improvement_submit(self, request, assessment_id):
        """An improvement item from the assessment's finding (9.3), as the API's
        route opens it: for the manager's own institution."""
        actor = signed_in(self, request)
        use = efficiency.open_improvement
        found = use.check(self, actor, {"assessment_id": assessment_id})
        fields = ("finding", "owner", "actions", "deadline")
        shown = {name: text(request.form, name) for name in fields}
        actions = [line.strip() for line in shown["actions"].splitlines()]

        def run():
            require_filled(
                {
                    "finding": (shown["finding"], "存在的问题"),
                    "owner": (shown["owner"], "请选择责任人"),
                    "actions": (shown["actions"], "整改措施（每行一项）"),
                    "deadline": (shown["deadline"], "整改期限"),
                }
            )
            form = {**shown, "actions": [action for action in actions if action]}
            use.run(self, actor, found, assessment_id=assessment_id, form=form)

        def errors_of(errors: list[dict]) -> dict:
            # an item already opened from this assessment is named by its source
            return {
                f"improvement.{'form' if k == 'ref' else k}": v
                for k, v in field_errors(errors).items()
            }

        return submitted(
            run,
            lambda status, **context: self._assessment_page(
                request, actor, assessment_id, status, **context
            ),
            lambda _: f"{ASSESSMENTS}/{assessment_id}?done=improvement",
            "improvement",
            {f"improvement.{k}": v for k, v in shown.items()},
            errors_of,
            conflicts=False,
        )

"""The manager's pages: the SLA and overdue board (7.4.2, 8.3.4), call-backs
and improvement items (9.2, 9.3), and the half-year summary (9.1.3).

Mixed into PagesRoutes. Each page runs the use case of its API route, with
the same checks: only a manager, only the manager's own institution (a
summary of another institution is "not found"); these pages are the
manager's, so a regulator who may read a summary through the API does not
get them.
"""

from __future__ import annotations

from datetime import datetime

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.evaluation.contract import IMPROVEMENT_STATUS
from services.gateway import access
from services.gateway.access import MANAGERS
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
from services.gateway.problems import download
from services.gateway.usecases import board, evaluation
from services.gateway.usecases.demands import stale_hours
from shared import calendar
from shared.errors import ValidationFailed
from shared.validation import require_filled, typed_moment

SUMMARY_MESSAGES = {
    "drafted": "半年总结已生成（草稿），请核对后签发",
    "signed": "半年总结已签发",
}


def board_moment(value: str) -> datetime:
    """The board's clock: now, or a moment typed as 2026-11-26 10:00 (Beijing)."""
    return typed_moment(value, "now") if value else calendar.now()


def board_hours(value: str) -> float | None:
    """The hours typed; None: the institution's service policy's (7.4.2)."""
    if not value:
        return None
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not 0 < hours <= 200:
        raise ValidationFailed.single(
            "working_hours", "请填写 0 到 200 之间的工作小时数"
        )
    return hours


def recent_halves(today: datetime) -> list[tuple[int, int]]:
    """This half-year and the three before it, newest first."""
    year, half = today.year, 1 if today.month <= 6 else 2
    found = []
    for _ in range(4):
        found.append((year, half))
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return found


class ManagerPages:
    """Mixed into PagesRoutes."""

    # -- the SLA and overdue board --------------------------------------------

    @http("GET", "/console/board")
    @html_errors
    def board_page(self, request):
        """Demands idle with their first responder (7.4.2) and referrals past
        their deadlines or escalated (8.3.4), of the manager's institution,
        and the staff's efficiency this half-year so far (9.2.2)."""
        actor = signed_in(self, request)
        shown = {
            "working_hours": text(request.args, "working_hours"),
            "now": text(request.args, "now"),
        }
        errors, status = {}, 200
        try:
            hours = board_hours(shown["working_hours"])
        except ValidationFailed as exc:
            errors.update(field_errors(exc.errors))
            hours = None
        if hours is None:
            hours = stale_hours(self, actor.institution)
        try:
            now = board_moment(shown["now"])
        except ValidationFailed as exc:
            errors.update(field_errors(exc.errors))
            now = calendar.now()
        if errors:
            status = 400
        since, until = efficiency_period("", "", calendar.today())
        found = board.board(self, actor, now=now, hours=hours, since=since, until=until)
        return render(
            request,
            "board.html",
            status,
            actor=actor,
            form=shown,
            errors=errors,
            hours=hours,
            period=period_days(since, until),
            **found,
        )

    # -- call-backs and improvement items (9.2, 9.3) --------------------------

    def _quality_page(self, request, actor, status=200, **context):
        halves = recent_halves(calendar.now())
        return render(
            request,
            "quality.html",
            status,
            actor=actor,
            **evaluation.quality(self, actor, halves=halves),
            improvement_status=IMPROVEMENT_STATUS,
            this_year=calendar.today().year,
            form=context.pop("form", {}),
            **context,
        )

    @http("GET", "/console/quality")
    @html_errors
    def quality_page(self, request):
        """Open call-backs after unsatisfied ratings, improvement items and the
        half-year summaries of the manager's institution."""
        return self._quality_page(request, signed_in(self, request))

    # -- half-year summaries (9.1.3) -----------------------------------------

    @http("POST", "/console/summaries")
    @html_errors
    @with_csrf
    def summary_draft_submit(self, request):
        """Draft (or redraft) the institution's summary of a half-year."""
        actor = signed_in(self, request)
        use = evaluation.draft_half_year
        found = use.check(self, actor, {})
        shown = {"year": text(request.form, "year"), "half": text(request.form, "half")}

        def run():
            require_filled(
                {"year": (shown["year"], "年份"), "half": (shown["half"], "请选择半年")}
            )
            year, half = (int(v) if v.isdigit() else v for v in shown.values())
            return use.run(self, actor, found, year=year, half=half)

        return submitted(
            run,
            lambda status, **context: self._quality_page(
                request, actor, status, **context
            ),
            lambda drafted: f"/console/summaries/{drafted['id']}?done=drafted",
            "summary",
            shown,
            conflicts=False,
        )

    def _summary(self, request, summary_id: str, form: str = "json"):
        """The summary for the manager's pages (the regulator reads it through
        the API)."""
        actor = signed_in(self, request)
        access.require_role(actor, MANAGERS)
        return actor, evaluation.summary(self, actor, summary_id=summary_id, form=form)

    def _summary_page(self, request, summary_id, status=200, **context):
        actor, found = self._summary(request, summary_id)
        return render(
            request,
            "summary.html",
            status,
            actor=actor,
            summary=found,
            done=SUMMARY_MESSAGES.get(request.args.get("done", "")),
            **context,
        )

    @http("GET", "/console/summaries/<string:summary_id>")
    @html_errors
    def summary_page(self, request, summary_id):
        return self._summary_page(request, summary_id)

    @http("GET", "/console/summaries/<string:summary_id>/view")
    @html_errors
    def summary_view(self, request, summary_id):
        """The summary as the evaluation service writes it (HTML)."""
        _, page = self._summary(request, summary_id, "html")
        response = Response(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
        return response

    @http("GET", "/console/summaries/<string:summary_id>/pdf")
    @html_errors
    def summary_pdf(self, request, summary_id):
        _, pdf = self._summary(request, summary_id, "pdf")
        return download(pdf, "application/pdf", f"half-year-{summary_id}.pdf")

    @http("POST", "/console/summaries/<string:summary_id>/sign-off")
    @html_errors
    @with_csrf
    def summary_sign_off_submit(self, request, summary_id):
        return one_field_submitted(
            self,
            request,
            evaluation.sign_off,
            {"summary_id": summary_id},
            "note",
            "签发意见",
            lambda _actor, status, **context: self._summary_page(
                request, summary_id, status, **context
            ),
            f"/console/summaries/{summary_id}?done=signed",
            "sign-off",
        )

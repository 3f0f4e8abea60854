"""The manager's pages: the SLA and overdue board (7.4.2, 8.3.4), call-backs
and improvement items (9.2, 9.3), and the half-year summary (9.1.3).

Mixed into PagesRoutes. Each page makes the calls its API route makes, with
the same checks: only a manager, only the manager's own institution (a
summary of another institution is "not found").
"""

from __future__ import annotations

from datetime import UTC, datetime

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.evaluation.records import HalfYearSummary
from services.evaluation.rules import IMPROVEMENT_STATUS
from services.gateway import access
from services.gateway.api import STALE_AFTER_WORKING_HOURS
from services.gateway.pages.handlers import html_errors, with_csrf
from services.gateway.pages.rendering import (
    BEIJING,
    field_errors,
    redirect,
    render,
    require_filled,
    text,
)
from services.gateway.pages.work import efficiency_period, period_days
from services.gateway.web import call
from services.referral.rules import WITH_PARTNER
from shared.errors import NotFound, ValidationFailed
from shared.rpc import audit_dict

MANAGERS = frozenset({"manager"})
# the API's default for /api/v1/stale-demands: idle working hours of an owner
STALE_AFTER_HOURS = STALE_AFTER_WORKING_HOURS
# referred demands whose referrals the board opens, newest first
BOARD_REFERRED_DEMANDS = 50
SUMMARY_MESSAGES = {
    "drafted": "半年总结已生成（草稿），请核对后签发",
    "signed": "半年总结已签发",
}


def overdue_stage(referral: dict, now: datetime) -> str:
    """Which deadline an open referral has passed at ``now``: its signing for
    (8.3.4) or its completion; empty when it is on time."""
    state = referral.get("state")
    if state == "sent" and _passed(referral.get("acceptance_due"), now):
        return "签收超期"
    if state in ("accepted", "in_progress") and _passed(
        referral.get("completion_due"), now
    ):
        return "办结超期"
    return ""


def _passed(due: str | None, now: datetime) -> bool:
    if not due:
        return False
    return datetime.fromisoformat(due) < now


def board_moment(value: str) -> datetime:
    """The board's clock: now, or a moment typed as 2026-11-26 10:00 (Beijing)."""
    if not value:
        return datetime.now(UTC)
    moment = value.replace(" ", "T", 1)
    moment = f"{moment}:00+08:00" if len(moment) == 16 else moment
    try:
        found = datetime.fromisoformat(moment)
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise ValidationFailed.single("now", "请填写有效的时间，如 2026-11-26 10:00")
    return found


def board_hours(value: str) -> float:
    if not value:
        return STALE_AFTER_HOURS
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
    """Mixed into PagesRoutes (RPC proxies and the page helpers)."""

    # -- the SLA and overdue board --------------------------------------------

    def _watched_referrals(self, actor, now: datetime) -> list[dict]:
        """Open referrals the institution is waiting on: those addressed to it
        (its inbox) and those its referred demands sent out; each with the
        deadline it has passed and the escalations the sweep recorded."""
        audit = audit_dict(actor, "web")
        found = {
            r["id"]: {**r, "side": "承办"}
            for r in call(self.referral.inbox, actor.institution, audit_data=audit)
        }
        page = call(
            self.intake.demands,
            actor.institution,
            "referred",
            0,
            BOARD_REFERRED_DEMANDS,
        )
        for row in page["items"]:
            demand = call(self.intake.get_demand, row["demand_id"])
            codes = [need["item_code"] for need in demand["needs"]]
            for brief in call(self.referral.referrals_for, row["demand_id"], codes):
                if brief["id"] in found or brief["state"] not in WITH_PARTNER:
                    continue
                full = call(self.referral.referral, brief["id"], audit_data=audit)
                found[brief["id"]] = {**full, "side": "转出"}
        watched = []
        for referral in found.values():
            late = overdue_stage(referral, now)
            if late or referral.get("escalated"):
                watched.append({**referral, "overdue": late})
        return sorted(watched, key=lambda r: (r.get("sent_at") or "", r["id"]))

    @http("GET", "/console/board")
    @html_errors
    def board_page(self, request):
        """Demands idle with their first responder (7.4.2) and referrals past
        their deadlines or escalated (8.3.4), of the manager's institution."""
        actor = self._console_actor(request, MANAGERS)
        shown = {
            "working_hours": text(request.args, "working_hours"),
            "now": text(request.args, "now"),
        }
        errors, status = {}, 200
        try:
            hours = board_hours(shown["working_hours"])
        except ValidationFailed as exc:
            errors.update(field_errors(exc.errors))
            hours = STALE_AFTER_HOURS
        try:
            now = board_moment(shown["now"])
        except ValidationFailed as exc:
            errors.update(field_errors(exc.errors))
            now = datetime.now(UTC)
        if errors:
            status = 400
        stale = call(
            self.intake.stale_demands, now.isoformat(), hours, actor.institution
        )
        return render(
            request,
            "board.html",
            status,
            actor=actor,
            form=shown,
            errors=errors,
            hours=hours,
            stale=stale,
            referrals=self._watched_referrals(actor, now),
            **self._board_efficiency(actor),
        )

    def _board_efficiency(self, actor) -> dict:
        """The staff's efficiency figures this half-year so far (9.2.2), one
        call per staff member of the institution (a window has few)."""
        since, until = efficiency_period("", "", datetime.now(BEIJING).date())
        return {
            "period": period_days(since, until),
            "staff": self._staff_figures(actor, since, until),
        }

    # -- call-backs and improvement items (9.2, 9.3) --------------------------

    @http("GET", "/console/quality")
    @html_errors
    def quality_page(self, request):
        """Open call-backs after unsatisfied ratings, improvement items and the
        half-year summaries of the manager's institution."""
        actor = self._console_actor(request, MANAGERS)
        return self._quality_page(request, actor)

    def _quality_page(self, request, actor, status=200, **context):
        summaries = []
        for year, half in recent_halves(datetime.now(UTC)):
            summary_id = str(HalfYearSummary.create_id(actor.institution, year, half))
            try:
                summaries.append(call(self.evaluation.half_year_summary, summary_id))
            except NotFound:
                continue
        return render(
            request,
            "quality.html",
            status,
            actor=actor,
            call_backs=call(self.evaluation.call_backs, actor.institution, "open"),
            improvements=call(self.evaluation.improvements, actor.institution, ""),
            summaries=summaries,
            improvement_status=IMPROVEMENT_STATUS,
            this_year=datetime.now(UTC).year,
            form=context.pop("form", {}),
            **context,
        )

    # -- half-year summaries (9.1.3) -----------------------------------------

    @http("POST", "/console/summaries")
    @html_errors
    @with_csrf
    def summary_draft_submit(self, request):
        """Draft (or redraft) the institution's summary of a half-year."""
        actor = self._console_actor(request, MANAGERS)
        shown = {"year": text(request.form, "year"), "half": text(request.form, "half")}
        try:
            require_filled(
                {"year": (shown["year"], "年份"), "half": (shown["half"], "请选择半年")}
            )
            year = int(shown["year"]) if shown["year"].isdigit() else shown["year"]
            half = int(shown["half"]) if shown["half"].isdigit() else shown["half"]
            drafted = call(
                self.evaluation.draft_half_year,
                actor.institution,
                year,
                half,
                audit_data=audit_dict(actor, "web"),
            )
        except ValidationFailed as exc:
            errors = field_errors(exc.errors, "summary")
            return self._quality_page(request, actor, 400, errors=errors, form=shown)
        return redirect(f"/console/summaries/{drafted['id']}?done=drafted")

    def _own_summary_page(self, actor, summary_id: str) -> dict:
        """The API's rule: a manager reads their institution's summary only."""
        summary = call(self.evaluation.half_year_summary, summary_id)
        access.require_same_institution(actor, summary.get("institution_id", ""))
        return summary

    def _summary_page(self, request, actor, summary_id, status=200, **context):
        return render(
            request,
            "summary.html",
            status,
            actor=actor,
            summary=self._own_summary_page(actor, summary_id),
            done=SUMMARY_MESSAGES.get(request.args.get("done", "")),
            **context,
        )

    @http("GET", "/console/summaries/<string:summary_id>")
    @html_errors
    def summary_page(self, request, summary_id):
        actor = self._console_actor(request, MANAGERS)
        return self._summary_page(request, actor, summary_id)

    @http("GET", "/console/summaries/<string:summary_id>/view")
    @html_errors
    def summary_view(self, request, summary_id):
        """The summary as the evaluation service writes it (HTML)."""
        actor = self._console_actor(request, MANAGERS)
        self._own_summary_page(actor, summary_id)
        page = call(self.evaluation.half_year_html, summary_id)
        response = Response(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
        return response

    @http("GET", "/console/summaries/<string:summary_id>/pdf")
    @html_errors
    def summary_pdf(self, request, summary_id):
        actor = self._console_actor(request, MANAGERS)
        self._own_summary_page(actor, summary_id)
        return self._half_year_pdf(summary_id)

    @http("POST", "/console/summaries/<string:summary_id>/sign-off")
    @html_errors
    @with_csrf
    def summary_sign_off_submit(self, request, summary_id):
        actor = self._console_actor(request, MANAGERS)
        self._own_summary_page(actor, summary_id)
        note = text(request.form, "note")
        try:
            require_filled({"note": (note, "签发意见")})
            call(
                self.evaluation.sign_off_half_year,
                summary_id,
                note,
                audit_data=audit_dict(actor, "web"),
            )
        except ValidationFailed as exc:
            errors = field_errors(exc.errors, "sign-off")
            return self._summary_page(
                request, actor, summary_id, 400, errors=errors, form={"note": note}
            )
        return redirect(f"/console/summaries/{summary_id}?done=signed")

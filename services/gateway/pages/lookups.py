"""What a visitor finds by a code they hold, without a login (7.4.6, 9.1.1,
9.2.1): a demand's progress, a complaint's status, a report's verification,
and the satisfaction survey of a demand. Every look-up counts against the
visitor's guesses.

Each page runs the use case its API route runs.
"""

from __future__ import annotations

from nameko.web.handlers import http

from services.evaluation.contract import DIMENSIONS, LEVELS
from services.gateway.access import ANONYMOUS
from services.gateway.pages.handlers import html_errors, with_csrf
from services.gateway.pages.rendering import (
    field_errors,
    render,
    text,
    typed,
)
from services.gateway.usecases import complaints, demands, evaluation, referrals
from shared.errors import NotFound, ValidationFailed
from shared.validation import require_filled


class LookupPages:
    """Mixed into PagesRoutes."""

    @http("GET", "/progress")
    @html_errors
    def progress_page(self, request):
        """A customer follows the demand by its progress code (7.4.6)."""
        return self._found_by_code(
            request,
            "progress.html",
            "progress",
            demands.progress,
            "请填写进度查询码",
            "未找到该查询码，请核对后重新输入",
        )

    def _found_by_code(self, request, template, name, look_up, empty, unknown):
        """A page of what a visitor's code finds (``?code=``): the bare form
        until one is sent, 400 for an empty code, 404 for an unknown one; every
        look-up counts against the visitor's guesses."""
        code = text(request.args, "code")
        if "code" not in request.args:
            return render(request, template, code="")
        if not code:
            return render(request, template, 400, code=code, errors={"code": empty})
        self.count_guess(request, "code")
        try:
            found = look_up(self, ANONYMOUS, code=code)
        except NotFound:
            errors = {"code": unknown}
            return render(request, template, 404, code=code, errors=errors)
        return render(request, template, code=code, **{name: found})

    @http("GET", "/complaint/status")
    @html_errors
    def complaint_status_page(self, request):
        """Where a complaint stands, by its code: stage labels only."""
        return self._found_by_code(
            request,
            "complaint_status.html",
            "status",
            complaints.status,
            "请填写投诉查询码",
            "未找到该投诉查询码，请核对后重新输入",
        )

    @http("POST", "/complaint/<string:answer>")
    @html_errors
    @with_csrf
    def complaint_answer_submit(self, request, answer):
        """The complainant, by their code, accepts the communicated decision
        or asks for an internal review with a reason (ISO 10002 8.6, 8.7):
        the same use cases as the API's routes."""
        if answer not in ("acceptance", "rejection"):
            raise NotFound(answer)
        self.count_anonymous_write(request)
        shown = typed(request.form)
        code = shown.get("code", "")
        self.count_guess(request, "code")
        try:
            if answer == "acceptance":
                found = complaints.accept_decision(self, ANONYMOUS, code=code)
            else:
                found = complaints.reject_decision(
                    self, ANONYMOUS, code=code, form={"reason": shown.get("reason", "")}
                )
        except NotFound:
            errors = {"code": "未找到该投诉查询码，请核对后重新输入"}
            return render(
                request, "complaint_status.html", 404, code=code, errors=errors
            )
        except ValidationFailed as exc:
            found = complaints.status(self, ANONYMOUS, code=code)
            return render(
                request,
                "complaint_status.html",
                400,
                code=code,
                status=found,
                form=shown,
                errors=field_errors(exc.errors),
            )
        done = (
            "您已接受处理结果，投诉办结"
            if answer == "acceptance"
            else ("已提请内部复核，我们将另行答复")
        )
        return render(
            request, "complaint_status.html", code=code, status=found, done=done
        )

    @http("GET", "/verify")
    @html_errors
    def verify_page(self, request):
        """Anyone with a report's verification code: valid, replaced, revoked."""
        return self._found_by_code(
            request,
            "verify.html",
            "report",
            referrals.verify_report,
            "请填写报告验证码",
            "未找到该验证码对应的报告，请核对",
        )

    def _rating_page(self, request, code, status=200, **context):
        surveys = []
        if code:
            self.count_guess(request, "code")
            surveys = evaluation.surveys_for_code(self, ANONYMOUS, code=code)
        return render(
            request,
            "rate.html",
            status,
            code=code,
            surveys=surveys,
            levels=tuple(LEVELS),
            dimensions=DIMENSIONS,
            **context,
        )

    @http("GET", "/rate")
    @html_errors
    def rating_page(self, request):
        """The satisfaction survey of the customer's demand (9.2.1)."""
        code = text(request.args, "code")
        if "code" in request.args and not code:
            errors = {"code": "请填写进度查询码"}
            return self._rating_page(request, "", 400, errors=errors)
        return self._rating_page(request, code, form={})

    @http("POST", "/rate/<string:survey_id>")
    @html_errors
    @with_csrf
    def rating_submit(self, request, survey_id):
        self.count_anonymous_write(request)
        shown = typed(request.form)
        code = shown.get("code", "")
        body = {
            "overall": shown.get("overall", ""),
            "dimensions": {
                key: shown.get(f"dimensions.{key}", "") for key in DIMENSIONS
            },
            "comments": shown.get("comments", ""),
        }
        missing = {
            f"dimensions.{key}": (value, f"请选择“{DIMENSIONS[key]}”的评价")
            for key, value in body["dimensions"].items()
        }
        try:
            require_filled({"overall": (body["overall"], "请选择总体评价"), **missing})
            self.count_guess(request, "code")
            evaluation.rate(
                self, ANONYMOUS, survey_id=survey_id, code=code, rating=body
            )
        except ValidationFailed as exc:
            errors = field_errors(exc.errors)
            return self._rating_page(
                request, code, 400, form=shown, errors=errors, survey_id=survey_id
            )
        return render(request, "rated.html", code=code)

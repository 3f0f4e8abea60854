"""The public pages (5.1.5, 7.4.6, 9.1.1, 9.2.1): the service guide, the
online demand form (and the same form for staff at the window), progress by
code, complaints and their status, certification bodies, report
verification and the satisfaction survey.

Each page makes the calls its API route makes, with the same checks.
"""

from __future__ import annotations

from uuid import uuid4

from nameko.web.handlers import http

from services.evaluation.rules import DIMENSIONS, LEVELS
from services.gateway import access
from services.gateway.access import ANONYMOUS
from services.gateway.evaluation_routes import CUSTOMER
from services.gateway.pages.handlers import FormRefused, html_errors, with_csrf
from services.gateway.pages.rendering import (
    field_errors,
    redirect,
    render,
    require_filled,
    text,
    typed,
)
from services.gateway.web import call, day
from services.intake.registration import CUSTOMER_KINDS
from shared.audit import Actor
from shared.errors import NotFound, ValidationFailed
from shared.rpc import audit_dict

# Appendix B's optional lines as the online form shows them
OPTIONAL_LINES = (
    ("credit_code", "统一社会信用代码"),
    ("address", "详细地址"),
    ("contact_person", "联系人"),
    ("position", "职务"),
    ("main_business", "主营业务"),
)


class PublicPages:
    """Mixed into PagesRoutes (RPC proxies, the gateway's checks, page helpers)."""

    @http("GET", "/")
    @html_errors
    def guide_page(self, request):
        """The service guide: process, contacts, the service items (5.1.5)."""
        return render(
            request,
            "guide.html",
            guide=call(self.catalog.guide),
            items=call(self.catalog.items),
        )

    def _demand_form(self, request, form=None, errors=None, status=200, actor=None):
        at_window = actor is not None
        return render(
            request,
            "demand_form.html",
            status,
            actor=actor,
            at_window=at_window,
            action="/console/register" if at_window else "/demand",
            form=form or {"idempotency_key": str(uuid4()), "channel": "window"},
            errors=errors or {},
            items=call(self.catalog.items),
            kinds=CUSTOMER_KINDS,
            optional_lines=OPTIONAL_LINES + (("service_staff", "服务人员"),)
            if at_window
            else OPTIONAL_LINES,
        )

    def _register(self, request, actor: Actor):
        """Appendix B's form as the API's register_demand receives it; the
        same form again with messages by the fields when a rule refuses it."""
        shown = typed(request.form)
        at_window = actor is not ANONYMOUS
        form = {
            "applicant": shown.get("applicant", ""),
            "contact_phone": shown.get("contact_phone", ""),
            "service_item_code": shown.get("service_item_code", ""),
            "description": shown.get("description", ""),
            "customer_kind": shown.get("customer_kind") or "company",
            "channel": shown.get("channel", "") if at_window else "website",
        }
        lines = [field for field, _label in OPTIONAL_LINES] + ["feedback_time"]
        if at_window:
            lines.append("service_staff")
        form.update({field: shown[field] for field in lines if shown.get(field)})
        try:
            return call(
                self.intake.register_demand,
                form,
                audit_data=audit_dict(actor, form["channel"] or "website"),
                idempotency_key=shown.get("idempotency_key") or None,
            )
        except ValidationFailed as exc:
            raise FormRefused(shown, field_errors(exc.errors)) from None

    @http("GET", "/demand")
    @html_errors
    def demand_form_page(self, request):
        """The online demand form: Appendix B's lines (8.2.3)."""
        return self._demand_form(request)

    @http("POST", "/demand")
    @html_errors
    @with_csrf
    def demand_form_submit(self, request):
        """Files the demand as the API does for a customer online; shows the
        progress code (7.4.6)."""
        try:
            demand = self._register(request, ANONYMOUS)
        except FormRefused as refused:
            return self._demand_form(request, refused.form, refused.errors, 400)
        return render(request, "demand_filed.html", demand=demand)

    @http("GET", "/console/register")
    @html_errors
    def window_form_page(self, request):
        """Staff register a demand at the window, by phone etc. (8.2.3)."""
        actor = self._console_actor(request, access.STAFF_ROLES)
        return self._demand_form(request, actor=actor)

    @http("POST", "/console/register")
    @html_errors
    @with_csrf
    def window_form_submit(self, request):
        actor = self._console_actor(request, access.STAFF_ROLES)
        try:
            demand = self._register(request, actor)
        except FormRefused as refused:
            return self._demand_form(
                request, refused.form, refused.errors, 400, actor=actor
            )
        return redirect(f"/console/demands/{demand['id']}?done=registered")

    @http("GET", "/progress")
    @html_errors
    def progress_page(self, request):
        """A customer follows the demand by its progress code (7.4.6)."""
        return self._found_by_code(
            request,
            "progress.html",
            "progress",
            self.intake.progress,
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
        self._guard_code_guessing(request)
        try:
            found = call(look_up, code)
        except NotFound:
            errors = {"code": unknown}
            return render(request, template, 404, code=code, errors=errors)
        return render(request, template, code=code, **{name: found})

    @http("GET", "/complaint")
    @html_errors
    def complaint_form_page(self, request):
        """Complaints and suggestions, without a login (9.1.1)."""
        return render(request, "complaint_form.html", form={})

    @http("POST", "/complaint")
    @html_errors
    @with_csrf
    def complaint_form_submit(self, request):
        shown = typed(request.form)
        anonymous = shown.get("anonymous") == "yes"
        form = {
            "channel": "website",
            "anonymous": anonymous,
            "description": shown.get("description", ""),
            "remedy_requested": shown.get("remedy_requested", ""),
        }
        if not anonymous:
            form["complainant_name"] = shown.get("complainant_name", "")
            form["complainant_phone"] = shown.get("complainant_phone", "")
        try:
            require_filled(
                {
                    "description": (form["description"], "投诉内容"),
                    "remedy_requested": (form["remedy_requested"], "期望的处理方式"),
                }
            )
            received = call(
                self.complaints.receive,
                form,
                audit_data=audit_dict(CUSTOMER, "website"),
            )
        except ValidationFailed as exc:
            return render(
                request,
                "complaint_form.html",
                400,
                form=shown,
                errors=field_errors(exc.errors),
            )
        return render(request, "complaint_filed.html", received=received)

    @http("GET", "/complaint/status")
    @html_errors
    def complaint_status_page(self, request):
        """Where a complaint stands, by its code: stage labels only."""
        return self._found_by_code(
            request,
            "complaint_status.html",
            "status",
            self.complaints.status_by_code,
            "请填写投诉查询码",
            "未找到该投诉查询码，请核对后重新输入",
        )

    @http("GET", "/bodies")
    @html_errors
    def certification_bodies_page(self, request):
        """Certification bodies and their scopes on a day (6.4 c), as the API's
        /api/v1/catalog/certification-bodies answers them."""
        on = text(request.args, "on")
        try:
            on = day(on)
        except ValidationFailed as exc:
            return render(
                request,
                "bodies.html",
                400,
                on=on,
                scope="",
                errors=field_errors(exc.errors),
            )
        scope = text(request.args, "scope")
        found = call(self.catalog.institutions, "certification", on)
        if scope:
            found = [
                body
                for body in found
                if any(
                    scope in q["scope_text"] or scope in q["scope_codes"]
                    for q in body["qualifications"]
                )
            ]
        return render(request, "bodies.html", on=on, scope=scope, institutions=found)

    @http("GET", "/verify")
    @html_errors
    def verify_page(self, request):
        """Anyone with a report's verification code: valid, replaced, revoked."""
        return self._found_by_code(
            request,
            "verify.html",
            "report",
            self.referral.verify_report,
            "请填写报告验证码",
            "未找到该验证码对应的报告，请核对",
        )

    def _rating_page(self, request, code, status=200, **context):
        surveys = []
        if code:
            self._guard_code_guessing(request)
            surveys = call(self.evaluation.surveys_for_code, code)
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
            self._guard_code_guessing(request)
            call(
                self.evaluation.rate,
                survey_id,
                code,
                body,
                audit_data=audit_dict(CUSTOMER, "website"),
            )
        except ValidationFailed as exc:
            errors = field_errors(exc.errors)
            return self._rating_page(
                request, code, 400, form=shown, errors=errors, survey_id=survey_id
            )
        return render(request, "rated.html", code=code)

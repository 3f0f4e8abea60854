"""The public pages (5.1.5, 9.1.1, 6.4 c): the service guide, the online
demand form (and the same form for staff at the window), complaints and
certification bodies; what a visitor finds by a code is in lookups.py.

Each page makes the calls its API route makes, with the same checks.
"""

from __future__ import annotations

from uuid import uuid4

from nameko.web.handlers import http

from services.gateway.access import ANONYMOUS
from services.gateway.pages.handlers import (
    FormRefused,
    html_errors,
    signed_in,
    with_csrf,
)
from services.gateway.pages.rendering import (
    field_errors,
    render,
    text,
    typed,
)
from services.gateway.routing.query import day
from services.gateway.usecases import (
    catalog,
    complaints,
    demands,
)
from services.intake.contract import CUSTOMER_KINDS
from shared.audit import Actor
from shared.errors import ValidationFailed
from shared.validation import require_filled

# Appendix B's optional lines as the online form shows them
OPTIONAL_LINES = (
    ("credit_code", "统一社会信用代码"),
    ("address", "详细地址"),
    ("contact_person", "联系人"),
    # where the one-time notice, "report ready" and the survey invitation go
    ("contact_email", "电子邮箱（接收材料告知、报告出具和评价邀请）"),
    ("position", "职务"),
    ("main_business", "主营业务"),
)


class PublicPages:
    """Mixed into PagesRoutes."""

    @http("GET", "/")
    @html_errors
    def guide_page(self, request):
        """The service guide: process, contacts, the service items (5.1.5)."""
        return render(request, "guide.html", **catalog.front_page(self, ANONYMOUS))

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
            items=catalog.items(self, ANONYMOUS),
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
            return demands.register(
                self,
                actor,
                form=form,
                idempotency_key=shown.get("idempotency_key") or None,
                client=self.client(request),
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
        self.count_anonymous_write(request)
        try:
            demand = self._register(request, ANONYMOUS)
        except FormRefused as refused:
            return self._demand_form(request, refused.form, refused.errors, 400)
        return render(request, "demand_filed.html", demand=demand)

    @http("GET", "/console/register")
    @html_errors
    def window_form_page(self, request):
        """Staff register a demand at the window, by phone etc. (8.2.3)."""
        actor = signed_in(self, request)
        demands.register.check(self, actor, {})
        return self._demand_form(request, actor=actor)

    @http("POST", "/console/register")
    @html_errors
    @with_csrf
    def window_form_submit(self, request):
        actor = signed_in(self, request)
        demands.register.check(self, actor, {})
        try:
            demand = self._register(request, actor)
        except FormRefused as refused:
            return self._demand_form(
                request, refused.form, refused.errors, 400, actor=actor
            )
        # the one page that shows staff the progress code: printed for the
        # customer, never shown again (only the customer rates, 9.2.1)
        return render(
            request, "demand_filed.html", demand=demand, actor=actor, at_window=True
        )

    @http("GET", "/complaint")
    @html_errors
    def complaint_form_page(self, request):
        """Complaints and suggestions, without a login (9.1.1)."""
        return render(request, "complaint_form.html", form={})

    @http("POST", "/complaint")
    @html_errors
    @with_csrf
    def complaint_form_submit(self, request):
        self.count_anonymous_write(request)
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
        if shown.get("progress_code"):  # the case complained about (9.4)
            form["progress_code"] = shown["progress_code"]
        try:
            require_filled(
                {
                    "description": (form["description"], "投诉内容"),
                    "remedy_requested": (form["remedy_requested"], "期望的处理方式"),
                }
            )
            received = complaints.file(self, ANONYMOUS, form=form)
        except ValidationFailed as exc:
            return render(
                request,
                "complaint_form.html",
                400,
                form=shown,
                errors=field_errors(exc.errors),
            )
        return render(request, "complaint_filed.html", received=received)

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
        found = catalog.certification_bodies(self, ANONYMOUS, on=on, scope=scope)
        return render(request, "bodies.html", on=on, scope=scope, institutions=found)

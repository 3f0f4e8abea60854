"""The pages: public service pages and the staff, partner and regulator console.

Mixed into GatewayService like the API's route classes. Each page makes the
same RPC calls with the same checks as its API route: the role and
institution rules of services/gateway/access.py, the command tables
``api.DEMAND_COMMANDS`` and ``referral_routes.REFERRAL_COMMANDS``, and the
gateway's own ``_visible_demand`` and ``_case_audit``. A page only turns a
form into the body the API would have received, and an answer into HTML.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import urlencode
from uuid import UUID, uuid4

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.catalog.domain import institution_id
from services.gateway import access, api, case_audit
from services.gateway.access import ANONYMOUS, Unauthenticated
from services.gateway.evaluation_routes import CUSTOMER
from services.gateway.pages import rendering
from services.gateway.pages.custody import CustodyPages
from services.gateway.pages.handlers import FormRefused, html_errors, with_csrf
from services.gateway.pages.manager import STALE_AFTER_HOURS, ManagerPages
from services.gateway.pages.rendering import (
    SESSION_COOKIE,
    field_errors,
    redirect,
    render,
    require_filled,
    text,
    typed,
)
from services.gateway.pages.work import WorkPages
from services.gateway.referral_routes import PARTNER_SIDE, REFERRAL_COMMANDS
from services.gateway.tokens import TokenError
from services.gateway.web import TooManyAttempts, call, day
from services.intake.registration import CUSTOMER_KINDS
from services.referral.rules import PROGRESS_STAGES
from shared.audit import Actor
from shared.errors import (
    ConflictError,
    NotFound,
    ValidationFailed,
)
from shared.rpc import audit_dict

# Appendix B's optional lines as the online form shows them
OPTIONAL_LINES = (
    ("credit_code", "统一社会信用代码"),
    ("address", "详细地址"),
    ("contact_person", "联系人"),
    ("position", "职务"),
    ("main_business", "主营业务"),
)
REVIEW_CHECKS = {
    "capability": "具备服务能力",
    "method": "方法适用",
    "cycle": "周期可满足",
    "fee": "费用已告知",
}
OUTCOMES = {
    "referred": "转办（8.3.4）",
    "in_house": "本机构办理（8.3.2）",
    "answered": "当场答复（8.3.1）",
}
RATING_LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
RATING_DIMENSIONS = {
    "attitude": "服务态度",
    "efficiency": "办事效率",
    "professionalism": "专业水平",
    "timeliness": "办理时限",
    "fee_transparency": "收费透明",
    "environment": "服务环境",
}
# the commands a page offers; the rules stay in the command tables
PAGE_DEMAND_COMMANDS = (
    "take",
    "handover",
    "handover-answer",
    "follow-ups",
    "materials-notice",
    "supplements",
    "green-channel",
    "contract-review",
    "decision",
    "resolution",
    "reopening",
)
PAGE_REFERRAL_COMMANDS = (
    "sending",
    "acceptance",
    "return",
    "progress",
    "completion",
    "feedback",
)
# the text lines of a demand command's form as the API body names them, each
# required (labels as the intake domain names them), all named at once
TEXT_COMMAND_FIELDS = {
    "handover": {"to_staff": "接收人", "reason": "移交原因"},
    "follow-ups": {"note": "跟进记录"},
    "green-channel": {"reason": "开通原因"},
    "resolution": {"summary": "办结说明"},
    "reopening": {"reason": "重新办理原因"},
}
WORKBENCH_ROWS = 50
DONE_MESSAGES = {
    "registered": "需求已登记，请把进度查询码告知客户",
    "take": "已受理，您是本需求的首问负责人",
    "materials-notice": "已一次性告知需补充的材料",
    "supplements": "已登记补充材料",
    "contract-review": "合同评审已记录",
    "decision": "分流决定已记录",
    "handover": "已提出移交，等待接收人答复",
    "handover-answer": "已答复移交",
    "follow-ups": "跟进已记录",
    "green-channel": "已开通绿色通道",
    "resolution": "需求已办结",
    "reopening": "需求已重新办理",
    "sending": "转办已发送给承接机构",
    "acceptance": "已签收",
    "return": "已退回，原因已记录",
    "progress": "办理进度已报告",
    "completion": "已办结，报告已登记",
    "feedback": "已向首问负责人反馈",
}


def catalog_key(institution: str) -> str:
    """The catalog's id of an institution as accounts and demands name it: a
    partner by its catalog id, the front door by its code (seed_institutions)."""
    try:
        return str(UUID(institution))
    except ValueError:
        return str(institution_id(institution))


class PagesRoutes(ManagerPages, WorkPages, CustodyPages):
    """Mixed into GatewayService (RPC proxies, ``auth``, ``app`` and helpers)."""

    # -- who is looking -----------------------------------------------------

    def _page_actor(self, request) -> Actor:
        """The signed-in user from the session cookie, or an anonymous visitor."""
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token:
            return ANONYMOUS
        return self.auth.tokens.verify(token)

    def _console_actor(self, request, roles) -> Actor:
        actor = self._page_actor(request)
        access.require_role(actor, roles)
        return actor

    def _error_page(self, request, status: int, message: str):
        """A page saying what went wrong; signed-in users keep their menu."""
        try:
            actor = self._page_actor(request)
        except TokenError:
            actor = ANONYMOUS
        return render(request, "error.html", status, actor=actor, message=message)

    def _as_api_request(self, request, actor_token: str, args: dict) -> Request:
        """The page's request as the API route would have seen it (bearer token,
        query), so the audit read goes through the very same code."""
        environ = dict(request.environ)
        environ["HTTP_AUTHORIZATION"] = f"Bearer {actor_token}"
        environ["QUERY_STRING"] = urlencode({k: v for k, v in args.items() if v})
        return Request(environ)

    # -- static files -------------------------------------------------------

    @http("GET", "/static/<string:name>")
    @html_errors
    def static_file(self, request, name):
        """The pages' own CSS and JS: nothing is loaded from elsewhere."""
        path = rendering.STATIC_DIR / name
        kind = rendering.STATIC_TYPES.get(path.suffix)
        if kind is None or path.parent != rendering.STATIC_DIR or not path.is_file():
            raise NotFound(name)
        response = Response(path.read_bytes(), mimetype=kind)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    # -- public pages (5.1.5, 7.4.6, 9.1.1, 9.2.1) --------------------------

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
        code = text(request.args, "code")
        if "code" not in request.args:
            return render(request, "progress.html", code="")
        if not code:
            errors = {"code": "请填写进度查询码"}
            return render(request, "progress.html", 400, code=code, errors=errors)
        self._guard_code_guessing(request)
        try:
            progress = call(self.intake.progress, code)
        except NotFound:
            errors = {"code": "未找到该查询码，请核对后重新输入"}
            return render(request, "progress.html", 404, code=code, errors=errors)
        return render(request, "progress.html", code=code, progress=progress)

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
        code = text(request.args, "code")
        if "code" not in request.args:
            return render(request, "complaint_status.html", code="")
        if not code:
            errors = {"code": "请填写投诉查询码"}
            return render(request, "complaint_status.html", 400, errors=errors)
        self._guard_code_guessing(request)
        try:
            status = call(self.complaints.status_by_code, code)
        except NotFound:
            errors = {"code": "未找到该投诉查询码，请核对后重新输入"}
            return render(
                request, "complaint_status.html", 404, code=code, errors=errors
            )
        return render(request, "complaint_status.html", code=code, status=status)

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
        code = text(request.args, "code")
        if "code" not in request.args:
            return render(request, "verify.html", code="")
        if not code:
            errors = {"code": "请填写报告验证码"}
            return render(request, "verify.html", 400, errors=errors)
        self._guard_code_guessing(request)
        try:
            report = call(self.referral.verify_report, code)
        except NotFound:
            errors = {"code": "未找到该验证码对应的报告，请核对"}
            return render(request, "verify.html", 404, code=code, errors=errors)
        return render(request, "verify.html", code=code, report=report)

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
            levels=RATING_LEVELS,
            dimensions=RATING_DIMENSIONS,
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
                key: shown.get(f"dimensions.{key}", "") for key in RATING_DIMENSIONS
            },
            "comments": shown.get("comments", ""),
        }
        missing = {
            f"dimensions.{key}": (value, f"请选择“{RATING_DIMENSIONS[key]}”的评价")
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

    # -- sign in and out ----------------------------------------------------

    @http("GET", "/console/login")
    @html_errors
    def login_page(self, request):
        return render(
            request,
            "login.html",
            next=rendering.safe_next(request.args.get("next")),
            form={},
        )

    @http("POST", "/console/login")
    @html_errors
    @with_csrf
    def login_submit(self, request):
        """The API's login, the token kept in an HttpOnly cookie."""
        username = text(request.form, "username")
        password = request.form.get("password", "")
        target = rendering.safe_next(request.form.get("next"))

        def again(errors, status=400):
            return render(
                request,
                "login.html",
                status,
                next=target,
                form={"username": username},
                errors=errors,
            )

        try:
            require_filled(
                {"username": (username, "用户名"), "password": (password, "密码")}
            )
        except ValidationFailed as exc:
            return again(field_errors(exc.errors))
        keys = (f"user:{username}", f"addr:{self._client(request)}")
        for key in keys:
            if self.auth.logins.exceeded(key):
                raise TooManyAttempts(self.auth.logins.retry_after(key))
        account = self.app.authenticate(username, password)
        if account is None:
            for key in keys:
                self.auth.logins.record(key)
            return again({"password": "用户名或密码错误"}, 401)
        actor = Actor(account.username, account.role, account.institution)
        response = redirect(target)
        rendering.set_cookie(
            response,
            SESSION_COOKIE,
            self.auth.tokens.issue(actor),
            request,
            max_age=int(self.auth.tokens.ttl_seconds),
        )
        return response

    @http("POST", "/console/logout")
    @html_errors
    @with_csrf
    def logout_submit(self, request):
        response = redirect("/console/login")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- the workbench ------------------------------------------------------

    @http("GET", "/console/")
    @html_errors
    def workbench_page(self, request):
        """Staff: their institution's demands with status and owner (7.4.2);
        a regulator: every institution's; a partner: the referral inbox."""
        actor = self._page_actor(request)
        if actor.role == "partner":
            return redirect("/console/referrals")
        access.require_role(actor, access.READERS_OF_CASES)
        status = text(request.args, "status")
        institution = None if actor.role == "regulator" else actor.institution
        try:
            offset = max(int(request.args.get("offset", 0)), 0)
        except ValueError:
            offset = 0
        page = call(self.intake.demands, institution, status, offset, WORKBENCH_ROWS)
        return render(
            request,
            "workbench.html",
            actor=actor,
            page=page,
            status=status,
            institutions=self._names_of({row["institution"] for row in page["items"]}),
            idle=self._idle_hours(actor),
            previous=max(offset - WORKBENCH_ROWS, 0) if offset else None,
            following=offset + WORKBENCH_ROWS
            if offset + WORKBENCH_ROWS < page["total"]
            else None,
        )

    def _idle_hours(self, actor: Actor) -> dict[str, float]:
        """Demands past the first responder's response time (7.4.2): the
        stale-demand rule the manager's board uses, for the workbench's
        deadline column; a regulator's workbench spans institutions."""
        if actor.role == "regulator":
            return {}
        now = datetime.now(UTC).isoformat()
        rows = call(
            self.intake.stale_demands, now, STALE_AFTER_HOURS, actor.institution
        )
        return {row["demand_id"]: row["idle_working_hours"] for row in rows}

    # -- a demand -----------------------------------------------------------

    def _demand_page(self, request, actor, demand_id, status=200, **context):
        demand = self._visible_demand(actor, demand_id)
        registration = call(self.intake.registration, demand_id)
        if not access.sees_personal_data(actor):
            registration = access.masked_registration(registration)
        codes = [need["item_code"] for need in demand["needs"]]
        checklists = {code: call(self.catalog.item, code) for code in codes}
        history = call(self.intake.history, demand_id)
        # the demand's summary does not carry it; its history does (7.4.5)
        green = any(
            str(row["event"]).rpartition(".")[2] == "GreenChannelOpened"
            for row in history
        )
        demand = {**demand, "green_channel": demand.get("green_channel") or green}
        return render(
            request,
            "demand.html",
            status,
            actor=actor,
            demand=demand,
            registration=registration,
            checklists=checklists,
            referrals=self._referrals_with_deadlines(actor, demand_id, codes),
            history=history,
            review_checks=REVIEW_CHECKS,
            outcomes=OUTCOMES,
            institutions=self._names_of({demand["institution"]}),
            form=context.pop("form", {}),
            role_labels=case_audit.ROLE_LABELS,
            done=DONE_MESSAGES.get(request.args.get("done", "")),
            **context,
        )

    def _referrals_with_deadlines(self, actor, demand_id, codes) -> list[dict]:
        """The demand's referrals with their signing-for and completion
        deadlines (8.3.4), read as the referral service shows them to the
        caller."""
        briefs = call(self.referral.referrals_for, demand_id, codes)
        audit = audit_dict(actor, "web", demand_id)
        return [
            {**call(self.referral.referral, brief["id"], audit_data=audit), **brief}
            for brief in briefs
        ]

    @http("GET", "/console/demands/<string:demand_id>")
    @html_errors
    def demand_page(self, request, demand_id):
        actor = self._console_actor(request, access.READERS_OF_CASES)
        return self._demand_page(request, actor, demand_id)

    @staticmethod
    def _demand_body(command: str, form) -> dict:
        """The API body of a page's form (rules stay in DEMAND_COMMANDS)."""
        if command == "materials-notice":
            return {"provided": form.getlist("provided")}
        if command == "supplements":
            items = form.getlist("items")
            if not items:
                raise ValidationFailed.single("items", "请勾选客户已补充的材料")
            return {"items": items}
        if command == "contract-review":
            checked = set(form.getlist("checks"))
            return {"checks": {k: k in checked for k in REVIEW_CHECKS}}
        if command == "decision":
            outcome = text(form, "outcome")
            if not outcome:
                raise ValidationFailed.single("outcome", "请选择分流结果")
            # what the chosen outcome needs (8.3.1 the answer, 8.3.2 the
            # department); the domain says which is missing
            details = {k: text(form, k) for k in ("answer", "department")}
            return {
                "outcome": outcome,
                "details": {k: v for k, v in details.items() if v},
            }
        if command == "handover-answer":
            answer = text(form, "answer")
            if answer not in ("accept", "refuse"):
                raise ValidationFailed.single("answer", "请选择接收或拒绝")
            return {"accept": answer == "accept", "reason": text(form, "reason")}
        fields = TEXT_COMMAND_FIELDS.get(command, {})
        body = {field: text(form, field) for field in fields}
        require_filled({field: (body[field], label) for field, label in fields.items()})
        return body

    @http("POST", "/console/demands/<string:demand_id>/<string:command>")
    @html_errors
    @with_csrf
    def demand_command_submit(self, request, demand_id, command):
        """The API's demand command, with the same role and institution checks."""
        if command not in PAGE_DEMAND_COMMANDS:
            raise NotFound(command)
        spec = api.DEMAND_COMMANDS[command]
        actor = self._page_actor(request)
        access.require_role(actor, spec.roles)
        demand = call(self.intake.get_demand, demand_id)
        access.require_same_institution(actor, demand["institution"])
        try:
            body = self._demand_body(command, request.form)
            args = spec.arguments(actor, body)
            audit = audit_dict(actor, "window", demand_id)
            call(getattr(self.intake, spec.rpc), demand_id, *args, audit_data=audit)
        except ValidationFailed as exc:
            errors = field_errors(exc.errors, command)
            shown = typed(request.form, command)
            return self._demand_page(
                request, actor, demand_id, 400, errors=errors, form=shown
            )
        except ConflictError as exc:
            errors = {f"{command}.form": rendering.conflict_message(exc)}
            return self._demand_page(request, actor, demand_id, 409, errors=errors)
        return redirect(f"/console/demands/{demand_id}?done={command}")

    # -- referrals: the partner's inbox and page (8.3.4, 8.3.5) -------------

    @http("GET", "/console/referrals")
    @html_errors
    def inbox_page(self, request):
        actor = self._console_actor(request, PARTNER_SIDE)
        found = call(
            self.referral.inbox,
            actor.institution,
            audit_data=audit_dict(actor, "web"),
        )
        return render(
            request,
            "inbox.html",
            actor=actor,
            referrals=found,
            done=DONE_MESSAGES.get(request.args.get("done", "")),
        )

    def _referral_page(self, request, actor, referral_id, status=200, **context):
        found = call(
            self.referral.referral, referral_id, audit_data=audit_dict(actor, "web")
        )
        return render(
            request,
            "referral.html",
            status,
            actor=actor,
            referral=found,
            stages=PROGRESS_STAGES,
            done=DONE_MESSAGES.get(request.args.get("done", "")),
            form=context.pop("form", {}),
            **context,
        )

    @http("GET", "/console/referrals/<string:referral_id>")
    @html_errors
    def referral_page(self, request, referral_id):
        actor = self._console_actor(request, PARTNER_SIDE | {"regulator"})
        return self._referral_page(request, actor, referral_id)

    @staticmethod
    def _referral_body(command: str, request) -> dict:
        """The API body of a page's form; the e-report is hashed here."""
        form = request.form
        if command == "return":
            require_filled({"reason": (text(form, "reason"), "退回原因")})
            return {"reason": text(form, "reason")}
        if command == "progress":
            require_filled({"stage": (text(form, "stage"), "请选择办理环节")})
            return {"stage": text(form, "stage"), "note": text(form, "note")}
        if command == "feedback":
            require_filled({"summary": (text(form, "summary"), "反馈内容")})
            return {"summary": text(form, "summary")}
        if command == "completion":
            upload = request.files.get("report_file")
            content = upload.read() if upload and upload.filename else b""
            require_filled(
                {
                    "report_no": (text(form, "report_no"), "报告编号"),
                    "issued_on": (text(form, "issued_on"), "签发日期"),
                    "report_file": (content, "请选择要上传的电子报告文件"),
                }
            )
            return {
                "report": {
                    "report_no": text(form, "report_no"),
                    "issued_on": text(form, "issued_on"),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "conclusion": text(form, "conclusion"),
                }
            }
        return {}

    @http("POST", "/console/referrals/<string:referral_id>/<string:command>")
    @html_errors
    @with_csrf
    def referral_command_submit(self, request, referral_id, command):
        """The API's referral command: role first, then whose referral it is."""
        if command not in PAGE_REFERRAL_COMMANDS:
            raise NotFound(command)
        spec = REFERRAL_COMMANDS[command]
        actor = self._page_actor(request)
        access.require_role(actor, spec.roles)
        call(self.referral.referral, referral_id, audit_data=audit_dict(actor, "web"))
        # a returned referral is no longer the partner's: back to the inbox
        here = "/console/referrals" if command == "return" else ""
        back = rendering.safe_next(
            request.form.get("return_to"),
            here or f"/console/referrals/{referral_id}",
        )
        try:
            args = spec.arguments(self._referral_body(command, request))
            method = getattr(self.referral, spec.rpc)
            call(method, referral_id, *args, audit_data=audit_dict(actor, "web"))
        except ValidationFailed as exc:
            renamed = {"sha256": "report_file", "report": "report_no"}
            errors = {
                f"{command}.{renamed.get(k, k)}": v
                for k, v in field_errors(exc.errors).items()
            }
            shown = typed(request.form)
            return self._referral_page(
                request, actor, referral_id, 400, errors=errors, form=shown
            )
        except ConflictError as exc:
            errors = {f"{command}.form": rendering.conflict_message(exc)}
            return self._referral_page(request, actor, referral_id, 409, errors=errors)
        separator = "&" if "?" in back else "?"
        return redirect(f"{back}{separator}done={command}")

    # -- the regulator's case page (audit contract) -------------------------

    def _audit_for_page(self, request, demand_id: str, what: str, as_of: str):
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token:
            raise Unauthenticated("请先登录")
        # Beijing time as staff type it: 2026-11-26 10:00
        moment = as_of.replace(" ", "T", 1)
        moment = f"{moment}:00+08:00" if len(moment) == 16 else moment
        try:
            return self._case_audit(
                self._as_api_request(request, token, {"as_of": moment}),
                demand_id,
                what,
            )
        except ValidationFailed:
            raise ValidationFailed.single(
                "as_of", "请填写有效的时间，如 2026年11月26日 10:00"
            ) from None

    @http("GET", "/console/cases/<string:demand_id>")
    @html_errors
    def case_page(self, request, demand_id):
        """One timeline across services with actors and institutions, as of a
        moment, and whether its hash chains verify."""
        actor = self._console_actor(request, access.READERS_OF_CASES)
        as_of, errors, status = text(request.args, "as_of"), {}, 200
        try:
            audit = self._audit_for_page(request, demand_id, "timeline", as_of)
        except ValidationFailed as exc:
            errors, status = field_errors(exc.errors), 400
            audit = self._audit_for_page(request, demand_id, "timeline", "")
        return render(
            request,
            "case.html",
            status,
            actor=actor,
            audit=audit,
            as_of=as_of,
            errors=errors,
            institutions=self._institution_names(audit),
            role_labels=case_audit.ROLE_LABELS,
            service_labels=case_audit.SERVICE_LABELS,
        )

    def _institution_names(self, audit: dict) -> dict[str, str]:
        """Names of the institutions on a timeline."""
        ids = {row["institution"] for row in audit["timeline"] if row["institution"]}
        if audit.get("demand"):
            ids.add(audit["demand"].get("institution", ""))
        return self._names_of(ids)

    def _names_of(self, ids: set[str]) -> dict[str, str]:
        """Institutions' names from the catalog (6.4 c); one the catalog does
        not hold is left out, and the page shows its code."""
        named = {}
        for institution in sorted(ids - {""}):
            try:
                found = call(self.catalog.institution, catalog_key(institution))
            except (NotFound, ValidationFailed):
                continue
            named[institution] = found["name"]
        return named

    @http("GET", "/console/cases/<string:demand_id>/export")
    @html_errors
    def case_export(self, request, demand_id):
        """The printable audit page, as the API's export (``format=html``)."""
        self._console_actor(request, access.READERS_OF_CASES)
        as_of = text(request.args, "as_of")
        try:
            audit = self._audit_for_page(request, demand_id, "export-html", as_of)
        except ValidationFailed:
            return self._error_page(request, 400, "导出时间格式有误")
        name = f"case-{demand_id}.html"
        return Response(
            case_audit.render_html(audit),
            mimetype="text/html",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

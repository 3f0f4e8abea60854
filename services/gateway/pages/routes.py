"""The pages: the staff, partner and regulator console, with the public pages
(public.py) and the work pages (work.py, custody.py, manager.py) mixed in.

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
from uuid import UUID

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.catalog.domain import institution_id
from services.gateway import access, api, case_audit
from services.gateway.access import ANONYMOUS, Unauthenticated
from services.gateway.pages import rendering
from services.gateway.pages.custody import CustodyPages
from services.gateway.pages.handlers import html_errors, with_csrf
from services.gateway.pages.manager import STALE_AFTER_HOURS, ManagerPages
from services.gateway.pages.public import PublicPages
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
from services.gateway.web import call
from services.referral.rules import PROGRESS_STAGES
from shared.audit import Actor
from shared.errors import (
    ConflictError,
    NotFound,
    ValidationFailed,
)
from shared.rpc import audit_dict

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


class PagesRoutes(PublicPages, ManagerPages, WorkPages, CustodyPages):
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
        account = self._authenticate(request, username, password)
        if account is None:
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

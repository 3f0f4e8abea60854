"""The pages: the staff, partner and regulator console, with the public pages
(public.py, lookups.py) and the work pages (demand.py, quotes.py, custody.py,
efficiency.py, manager.py) mixed in.

Mixed into GatewayService like the API's route classes. Each page runs the
use case its API route runs (services/gateway/usecases), with the same role
and institution checks; a page only turns a form into the use case's inputs
and its plain answer into HTML.
"""

from __future__ import annotations

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.gateway.access import ANONYMOUS
from services.gateway.pages import rendering
from services.gateway.pages.custody import CustodyPages
from services.gateway.pages.demand import DemandPages
from services.gateway.pages.efficiency import EfficiencyPages
from services.gateway.pages.files import FilePages
from services.gateway.pages.handlers import (
    error_page,
    html_errors,
    signed_in,
    with_csrf,
)
from services.gateway.pages.lookups import LookupPages
from services.gateway.pages.manager import ManagerPages
from services.gateway.pages.policy import PolicyPages
from services.gateway.pages.public import PublicPages
from services.gateway.pages.quotes import QuotePages
from services.gateway.pages.rendering import (
    SESSION_COOKIE,
    field_errors,
    redirect,
    render,
    text,
)
from services.gateway.problems import download
from services.gateway.usecases import audit, catalog, demands, platform
from shared import calendar
from shared.errors import NotFound, ValidationFailed
from shared.validation import require_filled, typed_moment

WORKBENCH_ROWS = 50


class PagesRoutes(
    PublicPages,
    LookupPages,
    DemandPages,
    ManagerPages,
    QuotePages,
    EfficiencyPages,
    CustodyPages,
    FilePages,
    PolicyPages,
):
    """Mixed into GatewayService (RPC proxies, ``auth``, ``app``)."""

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
        signed = platform.login(
            self,
            ANONYMOUS,
            client=self.client(request),
            username=username,
            password=password,
        )
        if signed is None:
            return again({"password": "用户名或密码错误"}, 401)
        response = redirect(target)
        rendering.set_cookie(
            response,
            SESSION_COOKIE,
            signed["token"],
            request,
            max_age=signed["expires_in"],
        )
        return response

    @http("POST", "/console/logout")
    @html_errors
    @with_csrf
    def logout_submit(self, request):
        """Ends the account's sessions on the server (the token in the cookie
        stops working everywhere, not only in this browser), then drops it."""
        platform.end_own_sessions(self, request.cookies.get(SESSION_COOKIE, ""))
        response = redirect("/console/login")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- the workbench ------------------------------------------------------

    @http("GET", "/console/")
    @html_errors
    def workbench_page(self, request):
        """Staff: their institution's demands with status and owner (7.4.2);
        a regulator: every institution's; a partner: the referral inbox."""
        actor = signed_in(self, request)
        if actor.role == "partner":
            return redirect("/console/referrals")
        status = text(request.args, "status")
        try:
            offset = max(int(request.args.get("offset", 0)), 0)
        except ValueError:
            offset = 0
        page = demands.listed(
            self, actor, status=status, offset=offset, limit=WORKBENCH_ROWS
        )
        ids = {row["institution"] for row in page["items"]}
        now = calendar.now().isoformat()
        return render(
            request,
            "workbench.html",
            actor=actor,
            page=page,
            status=status,
            institutions=catalog.institution_names(self, actor, ids=ids),
            idle=demands.idle_hours(self, actor, now=now),
            previous=max(offset - WORKBENCH_ROWS, 0) if offset else None,
            following=offset + WORKBENCH_ROWS
            if offset + WORKBENCH_ROWS < page["total"]
            else None,
        )

    # -- the regulator's case page (audit contract) -------------------------

    def _case_audit(self, actor, demand_id: str, what: str, typed: str) -> dict:
        as_of = typed_moment(typed, "as_of", "截至时间") if typed else None
        return audit.case(
            self,
            actor,
            demand_id=demand_id,
            as_of=as_of.isoformat() if as_of else "",
            what=what,
        )

    @http("GET", "/console/cases/<string:demand_id>")
    @html_errors
    def case_page(self, request, demand_id):
        """One timeline across services with actors and institutions, as of a
        moment, and whether its hash chains verify."""
        actor = signed_in(self, request)
        as_of, errors, status = text(request.args, "as_of"), {}, 200
        try:
            found = self._case_audit(actor, demand_id, "timeline", as_of)
        except ValidationFailed as exc:
            errors, status = field_errors(exc.errors), 400
            found = self._case_audit(actor, demand_id, "timeline", "")
        ids = {row["institution"] for row in found["timeline"] if row["institution"]}
        if found.get("demand"):
            ids.add(found["demand"].get("institution", ""))
        return render(
            request,
            "case.html",
            status,
            actor=actor,
            audit=found,
            as_of=as_of,
            errors=errors,
            institutions=catalog.institution_names(self, actor, ids=ids),
        )

    @http("GET", "/console/cases/<string:demand_id>/export")
    @html_errors
    def case_export(self, request, demand_id):
        """The printable audit page, as the API's export (``format=html``)."""
        actor = signed_in(self, request)
        as_of = text(request.args, "as_of")
        try:
            found = self._case_audit(actor, demand_id, "export-html", as_of)
        except ValidationFailed:
            return error_page(self, request, 400, "导出时间格式有误")
        page = rendering.html("case_export.html", audit=found, institutions={})
        return download(page, "text/html", f"case-{demand_id}.html")

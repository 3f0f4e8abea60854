"""The HTTP front door: the JSON API under /api/v1.

Thin: each route checks who is calling (services/gateway/access.py), then
makes one or two RPC calls with the caller's identity as audit data, so every
event the services store names the person, role, institution and channel.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy
from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.gateway import access, api, case_audit
from services.gateway.access import ANONYMOUS
from services.gateway.accounts import ROLES, GatewayApplication
from services.gateway.auth import Auth, AuthTools, seed_accounts
from services.gateway.catalog_resources_routes import CatalogResourcesRoutes
from services.gateway.catalog_routes import CatalogRoutes
from services.gateway.complaints_routes import ComplaintsRoutes
from services.gateway.custody_routes import CustodyRoutes
from services.gateway.efficiency_routes import EfficiencyRoutes
from services.gateway.evaluation_routes import EvaluationRoutes
from services.gateway.instrument_routes import InstrumentRoutes
from services.gateway.pages.routes import PagesRoutes
from services.gateway.problems import json_response, problem
from services.gateway.referral_routes import ReferralRoutes
from services.gateway.referral_task_routes import ReferralTaskRoutes
from services.gateway.tokens import TokenError
from services.gateway.web import (
    ServiceUnavailable,
    TooManyAttempts,
    call,
    day,
    errors_to_response,
    idempotency_key,
    json_body,
    page_of,
    paged,
)
from shared import case_history, config
from shared.audit import Actor, AuditContext, audit_scope
from shared.errors import (
    NotFound,
    ValidationFailed,
)
from shared.providers import Application
from shared.rpc import audit_dict
from shared.rpc_metrics import ServiceMetrics

log = logging.getLogger(__name__)

# services that keep streams of a case, each asked for its part of the audit
CASE_SERVICES = ("intake", "referral", "complaints", "evaluation", "catalog")


class GatewayService(
    ReferralRoutes,
    EvaluationRoutes,
    ComplaintsRoutes,
    CatalogRoutes,
    EfficiencyRoutes,
    ReferralTaskRoutes,
    CatalogResourcesRoutes,
    CustodyRoutes,
    InstrumentRoutes,
    PagesRoutes,
):
    name = "gateway"

    # RED of every HTTP route and the process's kernel figures (issue 11)
    service_metrics = ServiceMetrics()

    intake = RpcProxy("intake")
    referral = RpcProxy("referral")
    catalog = RpcProxy("catalog")
    complaints = RpcProxy("complaints")
    evaluation = RpcProxy("evaluation")

    app: GatewayApplication = Application(GatewayApplication, on_start=seed_accounts)
    auth: AuthTools = Auth()

    # -- who is calling -----------------------------------------------------

    def _actor(self, request) -> Actor:
        """The caller from the bearer token; an anonymous customer without one."""
        header = request.headers.get("Authorization", "")
        if not header:
            return ANONYMOUS
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise TokenError("登录凭证格式应为 Bearer <token>")
        return self.auth.tokens.verify(token.strip())

    @staticmethod
    def _client(request) -> str:
        return request.remote_addr or "unknown"

    def _authenticate(self, request, username: str, password: str):
        """The account if the password is right, else None (the API's login and
        the login page). Failed attempts count, per name and per address, and
        too many are refused for a while: guessing slows down."""
        keys = (f"user:{username}", f"addr:{self._client(request)}")
        for key in keys:
            if self.auth.logins.exceeded(key):
                raise TooManyAttempts(self.auth.logins.retry_after(key))
        account = self.app.authenticate(username, password)
        if account is None:
            for key in keys:
                self.auth.logins.record(key)
        return account

    # -- health and identity --------------------------------------------------

    @http("GET", "/healthz")
    @errors_to_response
    def healthz(self, request):
        """Ready when every service of this installation (QI_SERVICES) answers."""
        for name in config.get("QI_SERVICES").split(","):
            if name.strip() in CASE_SERVICES:
                call(getattr(self, name.strip()).ping)
        return json_response({"status": "ok"})

    @http("GET", "/openapi.json")
    @errors_to_response
    def openapi(self, request):
        return json_response(api.document())

    @http("GET", "/docs")
    @errors_to_response
    def docs(self, request):
        return Response(api.docs_page(), mimetype="text/html")

    @http("POST", "/api/v1/auth/login")
    @errors_to_response
    def login(self, request):
        """Username and password → a signed token that expires."""
        body = json_body(request)
        username, password = body.get("username"), body.get("password")
        errors = [
            {"field": f, "message": "请填写" + label}
            for f, label, value in (
                ("username", "用户名", username),
                ("password", "密码", password),
            )
            if not isinstance(value, str) or not value
        ]
        if errors:
            raise ValidationFailed(errors)
        account = self._authenticate(request, username, password)
        if account is None:
            return problem(401, "用户名或密码错误")
        actor = Actor(account.username, account.role, account.institution)
        return json_response(
            {
                "token": self.auth.tokens.issue(actor),
                "token_type": "Bearer",
                "expires_in": int(self.auth.tokens.ttl_seconds),
                "account": account.public(),
            }
        )

    @http("GET", "/api/v1/me")
    @errors_to_response
    def me(self, request):
        actor = self._actor(request)
        access.require_role(actor, set(ROLES))
        return json_response(
            {"username": actor.id, "role": actor.role, "institution": actor.institution}
        )

    # -- accounts (admin) ------------------------------------------------------

    @http("GET", "/api/v1/accounts")
    @errors_to_response
    def list_accounts(self, request):
        access.require_role(self._actor(request), {"admin"})
        return json_response(paged(request, self.app.accounts()))

    @http("POST", "/api/v1/accounts")
    @errors_to_response
    def open_account(self, request):
        actor = self._actor(request)
        access.require_role(actor, {"admin"})
        with self.auth.as_caller(actor, "internal"):
            opened = self.app.open_account(json_body(request))
        return json_response(opened, 201)

    @http("POST", "/api/v1/accounts/<string:username>/disable")
    @errors_to_response
    def disable_account(self, request, username):
        actor = self._actor(request)
        access.require_role(actor, {"admin"})
        with self.auth.as_caller(actor, "internal"):
            changed = self.app.disable(username, json_body(request).get("reason"))
        return json_response(changed)

    # -- demands (8.2, 7.4) -------------------------------------------------

    @http("POST", "/api/v1/demands")
    @errors_to_response
    def register_demand(self, request):
        """A customer online (no login) or staff at a window registers a demand."""
        actor = self._actor(request)
        if actor is not ANONYMOUS:
            access.require_role(actor, access.STAFF_ROLES)
        form = json_body(request)
        channel = form.get("channel") if isinstance(form.get("channel"), str) else ""
        demand = call(
            self.intake.register_demand,
            form,
            audit_data=audit_dict(actor, channel or "website"),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        answer = {
            "id": demand["id"],
            "progress_code": demand["progress_code"],
            "status": demand["status"],
            "registered_at": demand["registered_at"],
        }
        if actor is not ANONYMOUS:
            answer = demand
        return json_response(
            answer, 201, {"Location": f"/api/v1/demands/{demand['id']}"}
        )

    @http("GET", "/api/v1/demands")
    @errors_to_response
    def list_demands(self, request):
        """Staff and managers: their institution's; a regulator: everyone's."""
        actor = self._actor(request)
        access.require_role(actor, access.READERS_OF_CASES)
        offset, limit = page_of(request)
        institution = None if actor.role == "regulator" else actor.institution
        status = request.args.get("status", "")
        page = call(self.intake.demands, institution, status, offset, limit)
        return json_response(page)

    def _visible_demand(self, actor: Actor, demand_id: str) -> dict:
        access.require_role(actor, access.READERS_OF_CASES)
        demand = call(self.intake.get_demand, demand_id)
        access.require_same_institution(actor, demand["institution"])
        return demand

    @http("GET", "/api/v1/demands/<string:demand_id>")
    @errors_to_response
    def get_demand(self, request, demand_id):
        """The demand, its Appendix B form and its referrals."""
        actor = self._actor(request)
        demand = self._visible_demand(actor, demand_id)
        registration = call(self.intake.registration, demand_id)
        if not access.sees_personal_data(actor):
            registration = access.masked_registration(registration)
        codes = [need["item_code"] for need in demand["needs"]]
        demand.pop("applicant", None)
        demand.pop("contact_phone", None)
        demand["registration"] = registration
        demand["referrals"] = call(self.referral.referrals_for, demand["id"], codes)
        return json_response(demand)

    @http("GET", "/api/v1/demands/<string:demand_id>/history")
    @errors_to_response
    def demand_history(self, request, demand_id):
        """Every event of the demand with its actor, role, institution, channel."""
        actor = self._actor(request)
        self._visible_demand(actor, demand_id)
        return json_response(paged(request, call(self.intake.history, demand_id)))

    @http("POST", "/api/v1/demands/<string:demand_id>/<string:command>")
    @errors_to_response
    def demand_command(self, request, demand_id, command):
        """A staff command on a demand; see ``api.DEMAND_COMMANDS``."""
        spec = api.DEMAND_COMMANDS.get(command)
        if spec is None:
            raise NotFound(command)
        actor = self._actor(request)
        access.require_role(actor, spec.roles)
        body = json_body(request)
        demand = call(self.intake.get_demand, demand_id)
        access.require_same_institution(actor, demand["institution"])
        args = spec.arguments(actor, body)
        audit = audit_dict(actor, spec.channel(body), demand_id)
        method = getattr(self.intake, spec.rpc)
        return self._once(
            request,
            actor,
            f"demand/{demand_id}/{command}",
            lambda: call(method, demand_id, *args, audit_data=audit),
        )

    def _once(self, request, actor: Actor, route: str, command) -> Response:
        """Run a command; with an Idempotency-Key, a retry gets the first answer
        and the command does not run again."""
        key = idempotency_key(request)
        if key:
            done = self.app.remembered(key, actor.id, route)
            if done is not None:
                return Response(done[1], status=done[0], mimetype="application/json")
        response = json_response(command())
        if key:
            self.app.remember(
                key, actor.id, route, 200, response.get_data(as_text=True)
            )
        return response

    # -- the regulator's audit of a case (audit contract) ---------------------

    def _case_audit(self, request, demand_id: str, what: str) -> dict:
        actor = self._actor(request)
        self._visible_demand(actor, demand_id)
        as_of = case_audit.parse_as_of(request.args.get("as_of"))
        pending = {
            name: (
                getattr(self, name).case_events.call_async(demand_id),
                getattr(self, name).verify_case.call_async(demand_id),
            )
            for name in CASE_SERVICES
        }
        answers: dict = {}
        for name, (events, check) in pending.items():
            try:
                answers[name] = (call(events.result), call(check.result))
            except (ServiceUnavailable, UnknownService):
                answers[name] = None
        with self.auth.as_caller(actor, "internal"):
            answers["gateway"] = (
                case_history.case_events(self.app, demand_id),
                case_history.verify_case(self.app, demand_id),
            )
        demand = None
        if as_of is not None:
            demand = call(self.intake.demand_as_of, demand_id, as_of.isoformat())
        else:
            demand = call(self.intake.get_demand, demand_id)
        if demand is not None and not access.sees_personal_data(actor):
            demand["contact_phone"] = access.mask_phone(demand["contact_phone"])
        audit = case_audit.assemble(demand_id, answers, as_of, demand)
        # the read itself is recorded, in the case's own history
        context = AuditContext(
            actor=actor, channel="internal", correlation_id=demand_id
        )
        with audit_scope(context):
            self.app.record_read(demand_id, what, audit["as_of"] or "")
        return audit

    @http("GET", "/api/v1/audit/cases/<string:demand_id>")
    @errors_to_response
    def audit_case(self, request, demand_id):
        """One timeline across services, as of a moment, and its verification."""
        return json_response(self._case_audit(request, demand_id, "timeline"))

    @http("GET", "/api/v1/audit/cases/<string:demand_id>/export")
    @errors_to_response
    def export_case(self, request, demand_id):
        """The audit as a JSON file or a printable HTML page (``?format=html``)."""
        form = request.args.get("format", "json")
        if form not in ("json", "html"):
            raise ValidationFailed.single("format", "应为 json 或 html")
        audit = self._case_audit(request, demand_id, f"export-{form}")
        name = f"case-{demand_id}.{form}"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        if form == "json":
            return json_response(audit, 200, disposition)
        return Response(
            case_audit.render_html(audit),
            mimetype="text/html",
            headers=disposition,
        )

    @http("GET", "/api/v1/ops/parked-messages")
    @errors_to_response
    def parked_messages(self, request):
        """Ops: what each service parked (no payloads, no personal data)."""
        access.require_role(self._actor(request), {"ops"})
        found = {}
        for name in CASE_SERVICES:
            try:
                found[name] = call(getattr(self, name).parked_messages)
            except (ServiceUnavailable, UnknownService):
                found[name] = None  # not answering: said, not hidden
        return json_response({"services": found})

    @http("GET", "/api/v1/stale-demands")
    @errors_to_response
    def stale_demands(self, request):
        """7.4.2: the manager's list of demands whose owner did nothing."""
        actor = self._actor(request)
        access.require_role(actor, {"manager"})
        try:
            hours = float(
                request.args.get("working_hours", api.STALE_AFTER_WORKING_HOURS)
            )
        except ValueError:
            raise ValidationFailed.single("working_hours", "应为数字") from None
        now = request.args.get("now") or _now_iso()
        mine = call(self.intake.stale_demands, now, hours, actor.institution)
        return json_response({"items": mine})

    @http("GET", "/api/v1/progress/<string:code>")
    @errors_to_response
    def progress(self, request, code):
        """7.4.6: a customer follows their demand by its progress code."""
        key = f"progress:{self._client(request)}"
        if not self.auth.progress_queries.allow(key):
            raise TooManyAttempts(self.auth.progress_queries.retry_after(key))
        return json_response(call(self.intake.progress, code))

    # -- public service information (5.1.5, 6.4 c) -------------------------

    @http("GET", "/api/v1/public/guide")
    @errors_to_response
    def service_guide(self, request):
        """Service process, contacts and the complaint phone (5.1.5, 9.1.1)."""
        return json_response(call(self.catalog.guide))

    @http("GET", "/api/v1/catalog/items")
    @errors_to_response
    def catalog_items(self, request):
        return json_response({"items": call(self.catalog.items)})

    @http("GET", "/api/v1/catalog/items/<string:code>")
    @errors_to_response
    def catalog_item(self, request, code):
        return json_response(call(self.catalog.item, code))

    @http("GET", "/api/v1/catalog/certification-bodies")
    @errors_to_response
    def certification_bodies(self, request):
        """Certification bodies and their scopes (6.4 c): ``?on=2026-05-31``."""
        on = day(request.args.get("on"))
        found = call(self.catalog.institutions, "certification", on)
        return json_response({"on": on, "institutions": found})

    @http("GET", "/api/v1/catalog/qualified-institutions")
    @errors_to_response
    def qualified_institutions(self, request):
        """Who may serve an item on a day: ``?item=6.4.3&on=2026-05-31``."""
        item = request.args.get("item", "")
        if not item:
            raise ValidationFailed.single("item", "请给出服务事项编码")
        on = day(request.args.get("on"))
        found = call(self.catalog.qualified_institutions, item, on)
        return json_response({"item": item, "on": on, "institutions": found})


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()

"""The HTTP front door (walking skeleton of the API under /api/v1).

Authentication and role checks land with issue 9; until then submissions are
recorded as an anonymous customer and personal data is masked in answers.
"""

from __future__ import annotations

import json
import logging
from datetime import date

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy
from nameko.web.handlers import http

from services.gateway.problems import json_response, problem
from shared import config, logs
from shared.audit import Actor
from shared.errors import ConflictError, NotFound, ValidationFailed
from shared.rpc import audit_dict

log = logging.getLogger(__name__)

ANONYMOUS_CUSTOMER = Actor(id="anonymous", role="customer")
MAX_BODY_BYTES = 64 * 1024


class ServiceUnavailable(Exception):
    pass


def _call(method, *args, **kwargs):
    """An RPC call bounded in time, so a stopped service gives 503, not a hang."""
    try:
        with eventlet.Timeout(config.get_float("QI_RPC_TIMEOUT_SECONDS")):
            return method(*args, **kwargs)
    except eventlet.Timeout:
        raise ServiceUnavailable("timed out") from None


def _day(value: str | None) -> str:
    """A query's ``on`` date (default today), checked before any call."""
    day = value or date.today().isoformat()
    try:
        date.fromisoformat(day)
    except ValueError:
        raise ValidationFailed.single("on", "日期应写作 2026-05-31") from None
    return day


def _errors_to_response(func):
    def wrapper(self, request, *args, **kwargs):
        logs.current_service.set("gateway")
        try:
            return func(self, request, *args, **kwargs)
        except ValidationFailed as exc:
            return problem(400, "请求内容有误", errors=exc.errors)
        except NotFound:
            return problem(404, "未找到")
        except ConflictError as exc:
            return problem(409, "操作冲突", str(exc))
        except (ServiceUnavailable, UnknownService):
            return problem(503, "服务暂不可用，请稍后再试")
        except Exception:  # noqa: BLE001 - never a stack trace to the client
            log.exception("unhandled error in %s", func.__name__)
            return problem(500, "服务器内部错误")

    wrapper.__name__ = func.__name__
    return wrapper


class GatewayService:
    name = "gateway"

    intake = RpcProxy("intake")
    referral = RpcProxy("referral")
    catalog = RpcProxy("catalog")

    @http("GET", "/healthz")
    @_errors_to_response
    def healthz(self, request):
        """Ready when every service behind the gateway answers."""
        for proxy in (self.intake, self.referral, self.catalog):
            _call(proxy.ping)
        return json_response({"status": "ok"})

    @http("POST", "/api/v1/demands")
    @_errors_to_response
    def register_demand(self, request):
        if request.content_length and request.content_length > MAX_BODY_BYTES:
            return problem(413, "请求内容过大")
        try:
            form = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise ValidationFailed.single("body", "请求内容不是有效的 JSON") from None
        if not isinstance(form, dict):
            raise ValidationFailed.single("body", "请求内容应为 JSON 对象")
        channel = form.get("channel") if isinstance(form.get("channel"), str) else ""
        demand = _call(
            self.intake.register_demand,
            form,
            audit_data=audit_dict(ANONYMOUS_CUSTOMER, channel or "website"),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return json_response(
            demand, 201, {"Location": f"/api/v1/demands/{demand['id']}"}
        )

    @http("GET", "/api/v1/demands/<string:demand_id>")
    @_errors_to_response
    def get_demand(self, request, demand_id):
        demand = _call(self.intake.get_demand, demand_id)
        codes = [need["item_code"] for need in demand["needs"]]
        demand["referrals"] = _call(self.referral.referrals_for, demand["id"], codes)
        return json_response(demand)

    @http("GET", "/api/v1/progress/<string:code>")
    @_errors_to_response
    def progress(self, request, code):
        """7.4.6: a customer follows their demand by its progress code."""
        return json_response(_call(self.intake.progress, code))

    # -- public service information (5.1.5, 6.4 c) -------------------------

    @http("GET", "/api/v1/public/guide")
    @_errors_to_response
    def service_guide(self, request):
        """Service process, contacts and the complaint phone (5.1.5, 9.1.1)."""
        return json_response(_call(self.catalog.guide))

    @http("GET", "/api/v1/catalog/items")
    @_errors_to_response
    def catalog_items(self, request):
        return json_response({"items": _call(self.catalog.items)})

    @http("GET", "/api/v1/catalog/items/<string:code>")
    @_errors_to_response
    def catalog_item(self, request, code):
        return json_response(_call(self.catalog.item, code))

    @http("GET", "/api/v1/catalog/certification-bodies")
    @_errors_to_response
    def certification_bodies(self, request):
        """Certification bodies and their scopes (6.4 c): ``?on=2026-05-31``."""
        on = _day(request.args.get("on"))
        found = _call(self.catalog.institutions, "certification", on)
        return json_response({"on": on, "institutions": found})

    @http("GET", "/api/v1/catalog/qualified-institutions")
    @_errors_to_response
    def qualified_institutions(self, request):
        """Who may serve an item on a day: ``?item=6.4.3&on=2026-05-31``."""
        item = request.args.get("item", "")
        if not item:
            raise ValidationFailed.single("item", "请给出服务事项编码")
        on = _day(request.args.get("on"))
        found = _call(self.catalog.qualified_institutions, item, on)
        return json_response({"item": item, "on": on, "institutions": found})

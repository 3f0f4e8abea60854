"""Catalog resources over HTTP: service venues and their equipment (5.1,
5.1.6), large instruments (6.7), fee quotes on a demand (5.3.1.5) and the
expert pool (5.2.2 c).

The catalog service records who acted (audit data) but checks no ownership
itself, so the gateway does, before the body is read: a venue, its equipment
and an instrument belong to an institution, whose staff and managers change
them (the platform's admin changes any); a quote belongs to the institution
of its demand. Where the service is open to the public (5.1.2) the venues
are public; experts are the platform's pool, kept by the admin.
"""

from __future__ import annotations

from nameko.web.handlers import http

from services.gateway import access
from services.gateway.access import ADMINS, Hidden
from services.gateway.api import STRING, STRINGS
from services.gateway.problems import json_response
from services.gateway.web import (
    call,
    day,
    errors_to_response,
    iso_date,
    json_body,
    paged,
    text_field,
)
from shared.audit import Actor
from shared.errors import ValidationFailed
from shared.rpc import audit_dict

KEEPERS = access.STAFF_ROLES | ADMINS  # who keep an institution's resources
PLATFORM = KEEPERS | {"regulator"}
VENUE_FIELDS = ("kind", "name", "address", "hours", "accepts", "contact_phone")
EQUIPMENT_FIELDS = ("name", "category", "asset_no", "interval_days", "last_checked")
INSTRUMENT_FIELDS = (
    "name",
    "capabilities",
    "price_per_hour",
    "price_per_sample",
    "rules",
)
EXPERT_FIELDS = (
    "name",
    "fields",
    "title",
    "phone",
    "email",
    "specialities",
    "institution_id",
)
QUOTE_FIELDS = ("lines", "discount_percent", "customer_kind", "green_channel")


def _owner(actor: Actor, body: dict, field: str) -> str:
    """The institution a new resource belongs to: the caller's own; only the
    admin names another."""
    if actor.role in ADMINS:
        return text_field(body, field)
    return actor.institution


def _known(body: dict, fields: tuple, required: tuple = ()) -> dict:
    """The body's fields the service knows; a required one absent is passed as
    empty, so the service refuses it by name instead of failing on a missing
    argument."""
    found = {key: body[key] for key in fields if key in body}
    return {**dict.fromkeys(required), **found}


class CatalogResourcesRoutes:
    """Mixed into GatewayService (``self.catalog``, ``self.intake``, ``_actor``)."""

    def _venue_in_reach(self, actor: Actor, venue_id: str) -> dict:
        access.require_role(actor, KEEPERS)
        for venue in call(self.catalog.venues, None):
            if venue["id"] == venue_id:
                if actor.role not in ADMINS:
                    access.require_same_institution(actor, venue["institution_id"])
                return venue
        raise Hidden()

    def _quote_in_reach(self, actor: Actor, quote_id: str, roles) -> dict:
        access.require_role(actor, roles)
        quote = call(self.catalog.quote, quote_id)
        demand = call(self.intake.get_demand, quote["demand_id"])
        access.require_same_institution(actor, demand["institution"])
        return quote

    # -- venues and equipment (5.1, 5.1.6) ------------------------------------

    @http("GET", "/api/v1/catalog/venues")
    @errors_to_response
    def catalog_venues(self, request):
        """Service windows and sites, public: ``?institution=`` narrows."""
        institution = request.args.get("institution") or None
        return json_response(paged(request, call(self.catalog.venues, institution)))

    @http("POST", "/api/v1/catalog/venues")
    @errors_to_response
    def open_catalog_venue(self, request):
        """A window or site of the caller's institution (the admin names one)."""
        actor = self._actor(request)
        access.require_role(actor, KEEPERS)
        body = json_body(request)
        form = {
            "institution_id": _owner(actor, body, "institution_id"),
            **_known(body, VENUE_FIELDS),
        }
        opened = call(
            self.catalog.open_venue, form, audit_data=audit_dict(actor, "web")
        )
        return json_response(opened, 201)

    @http("POST", "/api/v1/catalog/venues/<string:venue_id>/equipment")
    @errors_to_response
    def register_venue_equipment(self, request, venue_id):
        """Equipment of a venue and its check interval (5.1.6)."""
        actor = self._actor(request)
        self._venue_in_reach(actor, venue_id)
        form = {"venue_id": venue_id, **_known(json_body(request), EQUIPMENT_FIELDS)}
        registered = call(
            self.catalog.register_equipment, form, audit_data=audit_dict(actor, "web")
        )
        return json_response(registered, 201)

    @http("GET", "/api/v1/catalog/overdue-equipment")
    @errors_to_response
    def overdue_equipment(self, request):
        """Equipment past its periodic check (``?today=``): an institution's
        own; the admin and the regulator see all."""
        actor = self._actor(request)
        access.require_role(actor, PLATFORM)
        today = day(request.args.get("today"), "today")
        found = call(self.catalog.overdue_equipment, today)
        if actor.role in access.STAFF_ROLES:
            own = {v["id"] for v in call(self.catalog.venues, actor.institution)}
            found = [item for item in found if item["venue_id"] in own]
        return json_response(paged(request, found))

    @http("POST", "/api/v1/catalog/equipment/<string:equipment_id>/checks")
    @errors_to_response
    def record_equipment_check(self, request, equipment_id):
        """A periodic check ``{checked_on, result, note}`` recorded by the admin;
        the catalog offers no read of one piece of equipment, so its venue's
        institution cannot be checked first and staff may not record it here."""
        actor = self._actor(request)
        access.require_role(actor, ADMINS)
        body = json_body(request)
        checked_on = iso_date(text_field(body, "checked_on"), "checked_on")
        recorded = call(
            self.catalog.record_equipment_check,
            equipment_id,
            checked_on,
            text_field(body, "result"),
            actor.id,
            text_field(body, "note"),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(recorded)

    # -- large instruments (6.7) ----------------------------------------------

    @http("POST", "/api/v1/catalog/instruments")
    @errors_to_response
    def register_catalog_instrument(self, request):
        """A shared instrument of the caller's institution (the admin names one)."""
        actor = self._actor(request)
        access.require_role(actor, KEEPERS)
        body = json_body(request)
        form = {
            "owner_id": _owner(actor, body, "owner_id"),
            **_known(body, INSTRUMENT_FIELDS, ("name", "capabilities")),
        }
        registered = call(
            self.catalog.register_instrument, form, audit_data=audit_dict(actor, "web")
        )
        return json_response(registered, 201)

    # -- experts (5.2.2 c) ----------------------------------------------------

    @http("POST", "/api/v1/catalog/experts")
    @errors_to_response
    def register_catalog_expert(self, request):
        actor = self._actor(request)
        access.require_role(actor, ADMINS)
        form = _known(json_body(request), EXPERT_FIELDS, ("name", "fields", "title"))
        registered = call(
            self.catalog.register_expert, form, audit_data=audit_dict(actor, "web")
        )
        return json_response(registered, 201)

    @http("GET", "/api/v1/catalog/experts")
    @errors_to_response
    def catalog_experts(self, request):
        """Experts available for an item on a day, best fit first:
        ``?item=6.4.3&on=2026-05-31`` (no contact data)."""
        access.require_role(self._actor(request), PLATFORM)
        item = request.args.get("item", "")
        if not item:
            raise ValidationFailed.single("item", "请给出服务事项编码")
        on = day(request.args.get("on"))
        return json_response(paged(request, call(self.catalog.experts_for, item, on)))

    # -- fee quotes (5.3.1.5) -------------------------------------------------

    @http("POST", "/api/v1/demands/<string:demand_id>/quotes")
    @errors_to_response
    def draft_demand_quote(self, request, demand_id):
        """A quote on the demand: ``{lines, discount_percent, customer_kind,
        green_channel}``, by the demand's institution."""
        actor = self._actor(request)
        access.require_role(actor, access.STAFF_ROLES)
        demand = call(self.intake.get_demand, demand_id)
        access.require_same_institution(actor, demand["institution"])
        form = _known(json_body(request), QUOTE_FIELDS, ("lines",))
        drafted = call(
            self.catalog.draft_quote,
            demand_id,
            form,
            audit_data=audit_dict(actor, "web", demand_id),
        )
        return json_response(drafted, 201)

    @http("GET", "/api/v1/quotes/<string:quote_id>")
    @errors_to_response
    def get_quote(self, request, quote_id):
        actor = self._actor(request)
        return json_response(
            self._quote_in_reach(actor, quote_id, access.READERS_OF_CASES)
        )

    def _change_quote(self, request, quote_id, action: str, arguments) -> dict:
        actor = self._actor(request)
        quote = self._quote_in_reach(actor, quote_id, access.STAFF_ROLES)
        args = arguments(json_body(request))
        return call(
            self.catalog.change_quote,
            quote_id,
            action,
            args,
            audit_data=audit_dict(actor, "web", quote["demand_id"]),
        )

    @http("POST", "/api/v1/quotes/<string:quote_id>/issue")
    @errors_to_response
    def issue_quote(self, request, quote_id):
        return json_response(self._change_quote(request, quote_id, "issue", _none))

    @http("POST", "/api/v1/quotes/<string:quote_id>/acceptance")
    @errors_to_response
    def accept_quote(self, request, quote_id):
        """The customer's acceptance of a revision, recorded by staff:
        ``{revision}``."""
        return json_response(self._change_quote(request, quote_id, "accept", _revision))

    @http("POST", "/api/v1/quotes/<string:quote_id>/withdrawal")
    @errors_to_response
    def withdraw_quote(self, request, quote_id):
        return json_response(
            self._change_quote(
                request, quote_id, "withdraw", lambda b: [text_field(b, "reason")]
            )
        )

    @http("POST", "/api/v1/quotes/<string:quote_id>/revision")
    @errors_to_response
    def revise_quote(self, request, quote_id):
        """New terms: ``{lines, discount_percent, green_channel}``."""
        return json_response(
            self._change_quote(
                request,
                quote_id,
                "revise",
                lambda b: [
                    b.get("lines"),
                    b.get("discount_percent"),
                    b.get("green_channel"),
                ],
            )
        )


def _none(body: dict) -> list:
    return []


def _revision(body: dict) -> list:
    revision = body.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool):
        raise ValidationFailed.single("revision", "请写明所接受的报价版本号")
    return [revision]


def document_paths() -> dict:
    from services.gateway.api import PAGE, body_schema, operation, path_parameter

    lines = {"type": "array", "items": {"type": "object"}}
    change = (400, 401, 403, 404, 409)
    return {
        "/api/v1/catalog/venues": {
            "get": operation(
                "服务窗口与服务场所（公开）",
                codes=(400,),
                parameters=[
                    {"name": "institution", "in": "query", "schema": STRING},
                    *PAGE,
                ],
                security=[],
            ),
            "post": operation(
                "开设本机构的服务窗口或场所",
                ok="201",
                codes=(400, 401, 403, 409),
                requestBody=body_schema(
                    {
                        "institution_id": STRING,
                        "kind": {"enum": ["window", "site"]},
                        "name": STRING,
                        "address": STRING,
                        "hours": {"type": "object"},
                        "accepts": STRINGS,
                        "contact_phone": STRING,
                    }
                ),
            ),
        },
        "/api/v1/catalog/venues/{venue_id}/equipment": {
            "post": operation(
                "登记场所的设备及检查周期（5.1.6）",
                ok="201",
                codes=change,
                parameters=[path_parameter("venue_id")],
                requestBody=body_schema(
                    {
                        "name": STRING,
                        "category": STRING,
                        "asset_no": STRING,
                        "interval_days": {"type": "integer"},
                        "last_checked": STRING,
                    }
                ),
            )
        },
        "/api/v1/catalog/overdue-equipment": {
            "get": operation(
                "逾期未检查的设备",
                codes=(400, 401, 403),
                parameters=[{"name": "today", "in": "query", "schema": STRING}, *PAGE],
            )
        },
        "/api/v1/catalog/equipment/{equipment_id}/checks": {
            "post": operation(
                "记录设备定期检查（平台管理员）",
                codes=change,
                parameters=[path_parameter("equipment_id")],
                requestBody=body_schema(
                    {"checked_on": STRING, "result": STRING, "note": STRING}
                ),
            )
        },
        "/api/v1/catalog/instruments": {
            "post": operation(
                "登记本机构的共享大型仪器（6.7）",
                ok="201",
                codes=(400, 401, 403),
                requestBody=body_schema(
                    {
                        "owner_id": STRING,
                        "name": STRING,
                        "capabilities": STRINGS,
                        "price_per_hour": STRING,
                        "price_per_sample": STRING,
                        "rules": {"type": "object"},
                    }
                ),
            )
        },
        "/api/v1/catalog/experts": {
            "get": operation(
                "某日可承担某服务事项的专家（5.2.2 c）",
                codes=(400, 401, 403),
                parameters=[
                    {"name": "item", "in": "query", "required": True, "schema": STRING},
                    {"name": "on", "in": "query", "schema": STRING},
                    *PAGE,
                ],
            ),
            "post": operation(
                "登记专家（平台管理员）",
                ok="201",
                codes=(400, 401, 403),
                requestBody=body_schema(
                    {
                        "name": STRING,
                        "fields": STRINGS,
                        "title": STRING,
                        "phone": STRING,
                        "email": STRING,
                        "specialities": STRINGS,
                        "institution_id": STRING,
                    }
                ),
            ),
        },
        "/api/v1/demands/{demand_id}/quotes": {
            "post": operation(
                "为需求出具收费报价草稿（5.3.1.5）",
                ok="201",
                codes=(400, 401, 403, 404),
                parameters=[path_parameter("demand_id")],
                requestBody=body_schema(
                    {
                        "lines": lines,
                        "discount_percent": {"type": ["string", "number"]},
                        "customer_kind": STRING,
                        "green_channel": {"type": "boolean"},
                    }
                ),
            )
        },
        "/api/v1/quotes/{quote_id}": {
            "get": operation("收费报价", parameters=[path_parameter("quote_id")])
        },
        "/api/v1/quotes/{quote_id}/issue": {
            "post": operation(
                "出具报价",
                codes=change,
                parameters=[path_parameter("quote_id")],
                requestBody=body_schema({}),
            )
        },
        "/api/v1/quotes/{quote_id}/acceptance": {
            "post": operation(
                "记录客户接受报价（写明版本号）",
                codes=change,
                parameters=[path_parameter("quote_id")],
                requestBody=body_schema({"revision": {"type": "integer"}}),
            )
        },
        "/api/v1/quotes/{quote_id}/withdrawal": {
            "post": operation(
                "撤回报价（写明原因）",
                codes=change,
                parameters=[path_parameter("quote_id")],
                requestBody=body_schema({"reason": STRING}),
            )
        },
        "/api/v1/quotes/{quote_id}/revision": {
            "post": operation(
                "修改报价",
                codes=change,
                parameters=[path_parameter("quote_id")],
                requestBody=body_schema(
                    {
                        "lines": lines,
                        "discount_percent": {"type": ["string", "number"]},
                        "green_channel": {"type": "boolean"},
                    }
                ),
            )
        },
    }

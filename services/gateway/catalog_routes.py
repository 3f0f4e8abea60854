"""Catalog administration over HTTP: partner institutions and their
qualifications (4.1), the service items of clause 6 and the public service
guide (5.1.5), all kept by the platform's administrator.

A qualification's standing is the issuing authority's decision, which the
admin records; an institution's own people never change their qualifications,
and the regulator reads them and writes nothing.
"""

from __future__ import annotations

import re

from nameko.web.handlers import http

from services.gateway import access
from services.gateway.access import ADMINS
from services.gateway.api import STRING, STRINGS
from services.gateway.problems import json_response
from services.gateway.web import call, errors_to_response, json_body, text_field
from shared.errors import ValidationFailed
from shared.rpc import audit_dict

QUALIFICATION = (
    "/api/v1/catalog/institutions/<string:institution_id>"
    "/qualifications/<string:cert_no>"
)

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain(body: dict) -> dict:
    """The body, if no text in it holds control characters: the catalog's
    tables cannot store a NUL, and one stored event its read model cannot
    apply would stop every later one."""
    errors = []

    def walk(value, field: str) -> None:
        if isinstance(value, str) and CONTROL.search(value):
            errors.append({"field": field, "message": "不能含有控制字符"})
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{field}.{key}" if field else str(key))
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                walk(inner, f"{field}[{i}]")

    walk(body, "")
    if errors:
        raise ValidationFailed(errors)
    return body


def _body(request) -> dict:
    return plain(json_body(request))


def _item_form(body: dict) -> dict:
    """The body's changes, of the types the item has (the catalog checks what
    they say and refuses fields it does not know)."""
    errors = []
    if "materials" in body and not isinstance(body["materials"], list):
        errors.append({"field": "materials", "message": "请列出所需材料"})
    days = body.get("cycle_days", 1)
    if isinstance(days, bool) or not isinstance(days, int):
        errors.append({"field": "cycle_days", "message": "办理周期应为整数个工作日"})
    if errors:
        raise ValidationFailed(errors)
    return body


class CatalogRoutes:
    """Mixed into GatewayService: ``self.catalog``, ``self._actor``."""

    @http("POST", "/api/v1/catalog/institutions")
    @errors_to_response
    def register_institution(self, request):
        """A partner institution: ``{code, name, kind, contact_phone, address}``."""
        actor = self._actor(request)
        access.require_role(actor, ADMINS)
        registered = call(
            self.catalog.register_institution,
            _body(request),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(registered, 201)

    @http("POST", "/api/v1/catalog/institutions/<string:institution_id>/qualifications")
    @errors_to_response
    def grant_qualification(self, request, institution_id):
        """A certificate and its scope: ``{kind, cert_no, scope_codes, valid_…}``."""
        actor = self._actor(request)
        access.require_role(actor, ADMINS)
        granted = call(
            self.catalog.grant_qualification,
            institution_id,
            _body(request),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(granted, 201)

    @http("POST", f"{QUALIFICATION}/status")
    @errors_to_response
    def change_qualification_status(self, request, institution_id, cert_no):
        """Suspend, reinstate or revoke from a date:
        ``{action: suspend|reinstate|revoke, effective_on, reason}``."""
        actor = self._actor(request)
        access.require_role(actor, ADMINS)
        body = _body(request)
        changed = call(
            self.catalog.change_qualification_status,
            institution_id,
            cert_no,
            text_field(body, "action"),
            text_field(body, "effective_on"),
            text_field(body, "reason"),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(changed)

    @http("POST", f"{QUALIFICATION}/renewal")
    @errors_to_response
    def renew_qualification(self, request, institution_id, cert_no):
        """A later end of validity: ``{valid_to}``."""
        actor = self._actor(request)
        access.require_role(actor, ADMINS)
        renewed = call(
            self.catalog.renew_qualification,
            institution_id,
            cert_no,
            text_field(_body(request), "valid_to"),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(renewed)

    @http("POST", "/api/v1/catalog/items/<string:code>/revision")
    @errors_to_response
    def revise_catalog_item(self, request, code):
        """A new version of an item: any of ``{name, description, materials,
        cycle_days}``."""
        actor = self._actor(request)
        access.require_role(actor, ADMINS)
        revised = call(
            self.catalog.revise_item,
            code,
            _item_form(_body(request)),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(revised)

    @http("POST", "/api/v1/catalog/guide/revision")
    @errors_to_response
    def revise_service_guide(self, request):
        """A new version of the public guide: any of ``{process, service_phone,
        complaint_phone, suggestion_email, address}``."""
        actor = self._actor(request)
        access.require_role(actor, ADMINS)
        revised = call(
            self.catalog.revise_guide,
            _body(request),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(revised)


def document_paths() -> dict:
    from services.gateway.api import (
        body_schema,
        operation,
        path_parameter,
        path_parameters,
    )

    qualification = "/api/v1/catalog/institutions/{institution_id}/qualifications"
    qualification += "/{cert_no}"
    return {
        "/api/v1/catalog/institutions": {
            "post": operation(
                "登记合作机构（平台管理员）",
                ok="201",
                codes=(400, 401, 403),
                requestBody=body_schema(
                    {
                        k: STRING
                        for k in ("code", "name", "kind", "contact_phone", "address")
                    }
                ),
            )
        },
        "/api/v1/catalog/institutions/{institution_id}/qualifications": {
            "post": operation(
                "登记机构资质及其范围（4.1，平台管理员）",
                ok="201",
                codes=(400, 401, 403, 404),
                parameters=[path_parameter("institution_id")],
                requestBody=body_schema(
                    {
                        "kind": STRING,
                        "cert_no": STRING,
                        "scope_codes": STRINGS,
                        "valid_from": STRING,
                        "valid_to": STRING,
                    }
                ),
            )
        },
        qualification + "/status": {
            "post": operation(
                "暂停、恢复或撤销资质（自生效日期起，平台管理员）",
                codes=(400, 401, 403, 404, 409),
                parameters=path_parameters("institution_id", "cert_no"),
                requestBody=body_schema(
                    {
                        "action": {"enum": ["suspend", "reinstate", "revoke"]},
                        "effective_on": STRING,
                        "reason": STRING,
                    }
                ),
            )
        },
        qualification + "/renewal": {
            "post": operation(
                "资质续期（平台管理员）",
                codes=(400, 401, 403, 404, 409),
                parameters=path_parameters("institution_id", "cert_no"),
                requestBody=body_schema({"valid_to": STRING}),
            )
        },
        "/api/v1/catalog/items/{code}/revision": {
            "post": operation(
                "修订服务事项（平台管理员）",
                codes=(400, 401, 403, 404, 409),
                parameters=path_parameters("code"),
                requestBody=body_schema(
                    {
                        "name": STRING,
                        "description": STRING,
                        "materials": STRINGS,
                        "cycle_days": {"type": "integer"},
                    }
                ),
            )
        },
        "/api/v1/catalog/guide/revision": {
            "post": operation(
                "修订公开的服务指南（平台管理员）",
                codes=(400, 401, 403, 409),
                requestBody=body_schema(
                    {
                        "process": STRINGS,
                        "service_phone": STRING,
                        "complaint_phone": STRING,
                        "suggestion_email": STRING,
                        "address": STRING,
                    }
                ),
            )
        },
    }

"""Catalog administration over HTTP: partner institutions and their
qualifications (4.1), kept by the platform's administrator."""

from __future__ import annotations

from nameko.web.handlers import http

from services.gateway import access
from services.gateway.access import ADMINS
from services.gateway.api import STRING
from services.gateway.problems import json_response
from services.gateway.web import call, errors_to_response, json_body
from shared.rpc import audit_dict


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
            json_body(request),
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
            json_body(request),
            audit_data=audit_dict(actor, "web"),
        )
        return json_response(granted, 201)


def document_paths() -> dict:
    from services.gateway.api import body_schema, operation

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
                parameters=[
                    {
                        "name": "institution_id",
                        "in": "path",
                        "required": True,
                        "schema": STRING,
                    }
                ],
                requestBody=body_schema(
                    {
                        "kind": STRING,
                        "cert_no": STRING,
                        "scope_codes": {"type": "array", "items": STRING},
                        "valid_from": STRING,
                        "valid_to": STRING,
                    }
                ),
            )
        },
    }

"""The OpenAPI document lists every API route the gateway serves."""

import re

from services.gateway import api
from services.gateway.service import GatewayService

NON_API_ROUTES = {"/healthz", "/openapi.json", "/docs"}


def served_routes() -> set[tuple[str, str]]:
    routes = set()
    attributes = [
        value for cls in GatewayService.__mro__ for value in vars(cls).values()
    ]
    for attribute in attributes:
        for entrypoint in getattr(attribute, "nameko_entrypoints", ()):
            method = getattr(entrypoint, "method", None)
            url = getattr(entrypoint, "url", None)
            # the JSON API and its documents; HTML pages are not part of it
            api_route = url and (url.startswith("/api/") or url in NON_API_ROUTES)
            if method and api_route:
                routes.add((method.lower(), re.sub(r"<string:(\w+)>", r"{\1}", url)))
    return routes


def documented_routes() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, operations in api.document()["paths"].items()
        for method in operations
    }


def test_every_served_route_is_documented_and_nothing_else():
    served = served_routes()
    assert served, "no routes found"
    from services.gateway.usecases.complaints import COMMANDS
    from services.gateway.usecases.demands import COMMANDS as DEMAND_COMMANDS
    from services.gateway.usecases.referrals import COMMANDS as REFERRAL_COMMANDS

    generic = {
        ("post", "/api/v1/demands/{demand_id}/{command}"),
        ("post", "/api/v1/referrals/{referral_id}/{command}"),
        ("post", "/api/v1/complaints/{complaint_id}/{command}"),
    }
    assert generic <= served
    commands = (
        {("post", f"/api/v1/demands/{{demand_id}}/{name}") for name in DEMAND_COMMANDS}
        | {
            ("post", f"/api/v1/referrals/{{referral_id}}/{name}")
            for name in REFERRAL_COMMANDS
        }
        | {("post", f"/api/v1/complaints/{{complaint_id}}/{name}") for name in COMMANDS}
    )
    assert documented_routes() == (served - generic) | commands


def test_the_document_is_openapi_3_1_with_a_problem_schema():
    document = api.document()
    assert document["openapi"] == "3.1.0"
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"], (method, path)
            assert operation["responses"], (method, path)

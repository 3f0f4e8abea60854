"""Issue 18, items 6 and 7, as the gateway declares them: every write anyone
may send without a login (a demand, a complaint, a rating, a customer's
answer by code) is counted per address and documents its 429; every answer
but the public catalog's is sent Cache-Control: no-store."""

from services.gateway import api
from services.gateway.routing.declare import REGISTRY, opens_to_anyone, public_data


def test_every_write_without_a_login_is_limited_and_says_so():
    document = api.document()
    writes = [
        route
        for route in REGISTRY
        if route.method != "GET" and opens_to_anyone(route.use)
    ]
    paths = {route.path for route in writes}
    assert {"/api/v1/demands", "/api/v1/public/complaints"} <= paths
    assert any(path.endswith("/rating") for path in paths)
    for route in writes:
        answers = document["paths"][route.path][route.method.lower()]["responses"]
        assert "429" in answers, route.path


def test_only_the_public_catalog_may_be_kept_by_a_cache():
    cached = sorted(route.path for route in REGISTRY if public_data(route))
    assert cached, "the catalog is public"
    assert all(
        p.startswith(("/api/v1/catalog/", "/api/v1/public/guide")) for p in cached
    )
    private = {route.path for route in REGISTRY if not public_data(route)}
    for path in (
        "/api/v1/demands/{demand_id}",
        "/api/v1/progress/{code}",
        "/api/v1/public/surveys",
        "/api/v1/audit/cases/{demand_id}",
    ):
        assert path in private

"""The gateway's routes are declared once: each names its use case, whose
roles and ownership rule say who may reach which object, and the JSON Schema
its body is checked against; the OpenAPI document is written from them."""

import json

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.routing import body as bodies
from services.gateway.routing.declare import REGISTRY, declare
from services.gateway.routing.openapi import document
from services.gateway.service import GatewayService  # noqa: F401 - registers routes
from services.gateway.usecases import owners
from services.gateway.usecases.operation import Owner, UseCase, use_case
from shared.errors import ValidationFailed


def walk(schema: dict, at: str = ""):
    """Every schema inside a body's schema, with where it stands."""
    yield at, schema
    for name, inner in schema.get("properties", {}).items():
        yield from walk(inner, f"{at}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from walk(schema[key], f"{at}[{key}]")
    for index, inner in enumerate(schema.get("prefixItems", [])):
        yield from walk(inner, f"{at}[{index}]")


def test_every_route_names_its_roles_and_the_rule_of_the_object_it_touches():
    assert len(REGISTRY) >= 140
    for route in REGISTRY:
        where = f"{route.method} {route.path}"
        assert isinstance(route.use, UseCase), where
        assert isinstance(route.use.owner, Owner), where
        assert route.use.owner.summary, where
        named = set(route.parameters) - {"command"}
        assert set(route.use.owner.params) <= named, where
        assert named <= set(route.use.owner.params) | set(route.inner), where
        # a route naming an object checks whose it is; only a code is public
        if named and route.use.roles is None:
            assert route.use.owner.params, where


def test_a_use_case_or_route_without_an_ownership_rule_cannot_be_declared():
    with pytest.raises(TypeError):
        use_case(roles=frozenset({"staff"}))  # no owner at all

    with pytest.raises(TypeError):
        use_case(roles=frozenset({"staff"}), owner=None)

    @use_case(roles=frozenset({"staff"}), owner=owners.OWN_INSTITUTION)
    def listed(gw, actor, _):
        return []

    # the path names a demand, but the rule checks no demand: refused
    with pytest.raises(ValueError, match="owner rule"):
        declare("GET", "/api/v1/test-only/{demand_id}", listed, "测试")
    with pytest.raises(TypeError):
        declare("GET", "/api/v1/test-only", lambda gw, actor, _: [], "测试")
    assert not [r for r in REGISTRY if r.path.startswith("/api/v1/test-only")]


def test_every_body_refuses_unknown_fields_and_bounds_text_and_lists():
    for route in REGISTRY:
        if route.body is None and route.upload:  # a file and its form's fields
            schema = {**route.upload_fields, "type": "object"}
            for at, field in walk(schema):
                if field.get("type") == "string":
                    assert "maxLength" in field, f"{route.path} {at}"
            continue
        if route.body is None:
            assert route.method == "GET", route.path
            continue
        for at, schema in walk(route.body):
            where = f"{route.method} {route.path} {at}"
            if schema.get("type") == "object" and "properties" in schema:
                assert schema.get("additionalProperties") is False, where
            if schema.get("type") == "object" and "properties" not in schema:
                assert "maxProperties" in schema, where
            if schema.get("type") == "string":
                assert "maxLength" in schema, where
            if schema.get("type") == "array":
                assert "maxItems" in schema or schema.get("items") is False, where


def test_the_openapi_document_is_written_from_the_declarations():
    described = document()
    operations = [
        (method.upper(), path, operation)
        for path, ops in described["paths"].items()
        for method, operation in ops.items()
    ]
    assert {(m, p) for m, p, _ in operations} == {(r.method, r.path) for r in REGISTRY}
    for method, path, operation in operations:
        assert operation["x-owner"]["rule"], (method, path)
        assert operation["x-roles"], (method, path)
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            assert "415" in operation["responses"], (method, path)
            assert "400" in operation["responses"], (method, path)


def request_with(body: object) -> Request:
    return Request(
        EnvironBuilder(
            method="POST", data=json.dumps(body), content_type="application/json"
        ).get_environ()
    )


def refused(schema: dict, body: object) -> list[dict]:
    with pytest.raises(ValidationFailed) as caught:
        bodies.checked(request_with(body), schema)
    return caught.value.errors


def test_a_body_is_refused_field_by_field_in_chinese():
    schema = bodies.fields(
        {
            "name": bodies.text("名称", 4),
            "count": bodies.whole("数量"),
            "checks": bodies.fields(
                {"fee": bodies.flag("费用已告知")}, required=("fee",)
            ),
            "slots": bodies.listed(
                "时段", {"type": "array", "items": bodies.text("时间", 40)}, most=2
            ),
            "kind": bodies.choice("类型", ["a", "b"]),
        },
        required=("name",),
    )
    assert refused(schema, {}) == [{"field": "name", "message": "请填写名称"}]
    assert refused(schema, {"name": 5}) == [{"field": "name", "message": "应为文本"}]
    assert refused(schema, {"name": "长长长长长"}) == [
        {"field": "name", "message": "不能超过 4 个字符"}
    ]
    assert refused(schema, {"name": "x", "extra": 1}) == [
        {"field": "extra", "message": "不认识的字段 extra"}
    ]
    assert refused(schema, {"name": "x", "count": "3"}) == [
        {"field": "count", "message": "应为整数"}
    ]
    assert refused(schema, {"name": "x", "checks": {}}) == [
        {"field": "checks.fee", "message": "请填写费用已告知"}
    ]
    assert refused(schema, {"name": "x", "slots": [[1]]}) == [
        {"field": "slots[0][0]", "message": "应为文本"}
    ]
    assert refused(schema, {"name": "x", "slots": [[], [], []]}) == [
        {"field": "slots", "message": "不能超过 2 项"}
    ]
    assert refused(schema, {"name": "x", "kind": "c"}) == [
        {"field": "kind", "message": "应为：a、b"}
    ]
    assert bodies.checked(request_with({"name": "好"}), schema) == {"name": "好"}


def test_what_no_schema_can_say_is_still_refused_by_name():
    schema = bodies.fields({"note": bodies.text("备注")})
    assert refused(schema, ["a list"]) == [
        {"field": "body", "message": "请求内容应为 JSON 对象"}
    ]
    assert refused(schema, {"note": "a\x00"})[0]["field"] == "note"
    catalog = bodies.fields({"name": bodies.plain("名称")})
    assert refused(catalog, {"name": "a\x07"}) == [
        {"field": "name", "message": "不能含有控制字符"}
    ]


def walk_all(schema: dict, at: str = ""):
    """``walk``, into each choice of an ``anyOf`` too (a field that may be null)."""
    for where, inner in walk(schema, at):
        if "anyOf" in inner:
            for index, choice in enumerate(inner["anyOf"]):
                yield from walk_all(choice, f"{where}|{index}")
        else:
            yield where, inner


def test_no_answer_leaves_a_field_of_unknown_shape():
    """Inside an answer every object names its fields (or is a mapping of one
    kind of value) and every list its items: /openapi.json documents what a
    client reads, and QI_CHECK_ANSWERS checks it (issue 18)."""
    loose = []
    for route in REGISTRY:
        if route.answer is None:
            continue
        for at, schema in walk_all(route.answer):
            if not at:
                continue  # the answer itself may still be a bare record
            bare_object = schema.get("type") == "object" and not (
                schema.get("properties") or schema.get("additionalProperties")
            )
            bare_list = schema.get("type") == "array" and "items" not in schema
            if schema == {} or bare_object or bare_list:
                loose.append(f"{route.method} {route.path} {at}")
    assert not loose, loose

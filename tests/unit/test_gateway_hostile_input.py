"""Input built to break the gateway is refused with a 400 naming what is wrong,
before any service sees it: nesting deep enough to exhaust the parser's
recursion, lone surrogates, numbers no column keeps, bytes that are not
UTF-8, ids that cannot name an object, query values of the wrong type."""

import io
import json

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.routing import body as bodies
from services.gateway.routing.query import checked_path, checked_query, param
from shared.errors import NotFound, ValidationFailed

SCHEMA = bodies.fields(
    {
        "note": bodies.text("备注"),
        "count": bodies.whole("数量"),
        "on": bodies.day("日期"),
        "at": bodies.moment("时间"),
        "items": bodies.texts("材料"),
    }
)


def raw_request(data: bytes, content_type: str = "application/json") -> Request:
    return Request(
        EnvironBuilder(
            method="POST", data=data, content_type=content_type
        ).get_environ()
    )


def refusal(data: bytes | str) -> list[dict]:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    with pytest.raises(ValidationFailed) as caught:
        bodies.checked(raw_request(data), SCHEMA)
    return caught.value.errors


def test_nested_brackets_are_refused_by_depth_before_the_parser_recurses():
    for opener in ("[", '{"a":', '[{"a":'):
        hostile = opener * 10_000  # 10-60 KB: the parser would recurse 10,000 times
        assert refusal(hostile) == [{"field": "body", "message": bodies.TOO_DEEP}]
    deep = "[" * (bodies.MAX_DEPTH + 1) + "]" * (bodies.MAX_DEPTH + 1)
    assert refusal('{"items": ' + deep + "}")[0]["message"] == bodies.TOO_DEEP
    # brackets inside strings are text, not nesting
    inside = json.dumps({"note": "[" * 150})
    assert bodies.checked(raw_request(inside.encode()), SCHEMA) == {"note": "[" * 150}


def test_the_depth_scan_is_linear_whatever_the_quotes_and_escapes():
    assert bodies.nesting('[["\\"[["]]') == 2  # an escaped quote does not end it
    assert bodies.nesting('["\\\\", [[]]]') == 3  # an escaped backslash does
    assert bodies.nesting('"\\' * 30_000) == 0


def test_a_lone_surrogate_in_a_value_or_a_key_is_refused_by_name():
    assert refusal('{"note": "a\\ud800b"}') == [
        {"field": "note", "message": bodies.SURROGATE_MESSAGE}
    ]
    assert refusal('{"items": ["ok", "\\udfff"]}')[0]["field"] == "items[1]"
    assert refusal('{"\\ud83d": 1}')[0]["message"] == bodies.SURROGATE_MESSAGE
    # a pair is one character, and kept
    pair = bodies.checked(raw_request(b'{"note": "\\ud83d\\ude00"}'), SCHEMA)
    assert pair == {"note": "\U0001f600"}


def test_numbers_no_column_keeps_and_non_json_constants_are_refused():
    for hostile in ('{"count": 1e400}', '{"count": -1e400}'):
        assert refusal(hostile) == [{"field": "body", "message": bodies.OUT_OF_RANGE}]
    assert refusal('{"count": 9007199254740993}')[0]["message"] == bodies.OUT_OF_RANGE
    for constant in ("NaN", "Infinity", "-Infinity"):
        assert refusal('{"count": ' + constant + "}")[0]["field"] == "body"
    assert refusal('{"count": ' + "9" * 5000 + "}")[0]["field"] == "body"


def test_bytes_that_are_not_utf8_are_refused():
    assert refusal(b'{"note": "\xed\xa0\x80"}') == [
        {"field": "body", "message": "请求内容应为 UTF-8 编码"}
    ]


def test_a_body_over_the_limit_is_refused_also_without_a_length():
    big = json.dumps({"note": "x" * bodies.MAX_BODY_BYTES}).encode()
    assert refusal(big) == [{"field": "body", "message": bodies.TOO_LARGE}]
    environ = EnvironBuilder(
        method="POST",
        input_stream=io.BytesIO(big),
        headers={"Transfer-Encoding": "chunked"},
        content_type="application/json",
    ).get_environ()
    environ["wsgi.input_terminated"] = True  # as a server that de-chunks says
    chunked = Request(environ)
    with pytest.raises(ValidationFailed):
        bodies.json_object(chunked)


def test_dates_and_moments_are_checked_as_formats_within_the_platforms_years():
    def errors(**body):
        return bodies.problems(body, SCHEMA)

    assert errors(on="2026-05-31", at="2026-05-31T09:30:00+08:00") == []
    assert errors(at="2026-05-31T09:30:00Z") == []
    for bad in ("2026-02-30", "20260531", "0001-01-01", "9999-12-31", "今天"):
        assert [e["field"] for e in errors(on=bad)] == ["on"], bad
    for bad in ("2026-05-31T09:30:00", "9999-12-31T23:59:59-23:59", "2026-05-31"):
        assert [e["field"] for e in errors(at=bad)] == ["at"], bad


def test_a_path_id_that_cannot_name_an_object_is_not_found():
    checked_path({"demand_id": "0b8e5f7a-2c7d-4d0e-9d0b-6a1f3c2e9b10"})
    checked_path({"code": "6.4.3", "username": "wang.staff"})
    for ids in (
        {"demand_id": "not-a-uuid"},
        {"referral_id": "0b8e5f7a"},
        {"code": "x" * 65},
        {"sample_id": "a\x07b"},
        {"username": "A B"},
    ):
        with pytest.raises(NotFound):
            checked_path(ids)


def query_request(query: str) -> Request:
    return Request(EnvironBuilder(method="GET", query_string=query).get_environ())


def test_query_parameters_are_read_as_their_declared_types():
    declared = (
        param("limit", schema={"type": "integer", "minimum": 1, "maximum": 200}),
        param("hours", schema={"type": "number", "minimum": 0}),
        param("on", required=True, schema={"type": "string", "format": "date"}),
    )
    checked_query(query_request("limit=5&hours=1.5&on=2026-05-31"), declared)
    for query, field in (
        ("limit=abc&on=2026-05-31", "limit"),
        ("limit=0&on=2026-05-31", "limit"),
        ("limit=" + "9" * 40 + "&on=2026-05-31", "limit"),
        ("hours=nan&on=2026-05-31", "hours"),
        ("hours=inf&on=2026-05-31", "hours"),
        ("on=2026-13-01", "on"),
        ("on=2026-05-31%07", "on"),
        ("", "on"),
        ("on=2026-05-31&limt=5", "limt"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            checked_query(query_request(query), declared)
        assert [e["field"] for e in caught.value.errors] == [field], query


def test_every_operation_documents_its_answer_and_types_its_parameters():
    from services.gateway.routing.declare import REGISTRY
    from services.gateway.routing.openapi import document
    from services.gateway.service import GatewayService  # noqa: F401 - registers

    described = document()
    for route in REGISTRY:
        where = f"{route.method} {route.path}"
        operation = described["paths"][route.path][route.method.lower()]
        success = operation["responses"][str(route.status)]["content"]
        for media, content in success.items():
            assert content["schema"].get("type") or content["schema"].get("anyOf"), (
                where,
                media,
            )
        for parameter in operation.get("parameters", ()):
            assert parameter["schema"].get("type") or parameter["schema"].get("enum"), (
                where,
                parameter["name"],
            )
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                schema = parameter["schema"]
                assert schema.get("format") == "uuid" or schema.get("pattern"), (
                    where,
                    parameter["name"],
                )
        problem = (
            operation["responses"]["400"]["content"]
            if "400" in (operation["responses"])
            else None
        )
        if problem:
            assert "application/problem+json" in problem, where


def test_the_reported_bodies_are_refused_by_the_routes_own_schemas():
    """issue 18: a channel that is an object, and an unknown key in a
    complaint's handling step, were 500s; each is a 400 naming the field."""
    from services.gateway.routing.declare import REGISTRY
    from services.gateway.service import GatewayService  # noqa: F401 - registers

    def schema(method: str, path: str) -> dict:
        return next(r.body for r in REGISTRY if (r.method, r.path) == (method, path))

    filed = schema("POST", "/api/v1/public/complaints")
    body = {"channel": {}, "description": "x", "remedy_requested": "y"}
    assert [e["field"] for e in bodies.problems(body, filed)] == ["channel"]
    step = schema("POST", "/api/v1/complaints/{complaint_id}/reject")
    smuggled = {"reason": "不属于受理范围", "complaint_id": "x", "__class__": 1}
    fields = [e["field"] for e in bodies.problems(smuggled, step)]
    assert fields == ["complaint_id", "__class__"]

"""With QI_CHECK_ANSWERS on, the gateway checks each JSON answer against the
schema its route declares: a mismatch is logged (route and JSON path, never
the value) and answered 500; off, the answer goes out as it is."""

import json
import logging

from jsonschema import Draft202012Validator

from services.gateway.routing import answers, checked_answers
from services.gateway.routing.declare import REGISTRY, Route, answered
from services.gateway.service import GatewayService  # noqa: F401 - registers routes
from services.gateway.usecases import owners
from services.gateway.usecases.operation import use_case

VISIT = answers.record(
    "到访",
    ("id", "samples"),
    id=answers.STRING,
    samples=answers.listing(answers.record("样品", ("code",), code=answers.STRING)),
)


@use_case(roles=None, owner=owners.PUBLIC)
def _nothing(gw, actor):
    return None


def a_route(answer: dict) -> Route:
    return Route("GET", "/api/v1/visits/x", _nothing, "一次到访", answer=answer)


def test_a_matching_answer_goes_out(monkeypatch):
    monkeypatch.setenv("QI_CHECK_ANSWERS", "1")
    response = answered(a_route(VISIT), {"id": "v1", "samples": [{"code": "S1"}]})
    assert response.status_code == 200
    assert json.loads(response.get_data()) == {"id": "v1", "samples": [{"code": "S1"}]}


def test_an_answer_unlike_its_schema_is_a_500_naming_the_path(monkeypatch, caplog):
    monkeypatch.setenv("QI_CHECK_ANSWERS", "1")
    caplog.set_level(logging.ERROR, logger="services.gateway")
    secret = "13800000000"
    response = answered(a_route(VISIT), {"id": "v1", "samples": [{"code": 7}, {}]})
    assert response.status_code == 500
    assert response.headers["Cache-Control"] == "no-store"
    logged = caplog.text
    assert "GET /api/v1/visits/x" in logged
    assert "$.samples[0].code" in logged and "$.samples[1]" in logged
    answered(a_route(VISIT), {"id": secret, "samples": 3})
    assert secret not in caplog.text  # the path, never the value


def test_off_the_answer_is_not_checked(monkeypatch):
    monkeypatch.setenv("QI_CHECK_ANSWERS", "")
    assert answered(a_route(VISIT), {"samples": 3}).status_code == 200


def test_a_validator_is_compiled_once_per_schema():
    assert checked_answers.validator_of(VISIT) is checked_answers.validator_of(VISIT)


def test_every_declared_answer_schema_is_a_valid_schema():
    for route in REGISTRY:
        if route.answer is not None:
            Draft202012Validator.check_schema(route.answer)

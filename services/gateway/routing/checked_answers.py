"""Answers checked against their route's declared schema (QI_CHECK_ANSWERS).

A route declares the schema of its success answer (routing/answers.py) and
/openapi.json publishes it; a client may rely on it. With QI_CHECK_ANSWERS=1
(every test run: tests/conftest.py, tests/support.py) the gateway checks each
JSON answer of a 2xx against that schema before sending it, so every
integration test is a check of the documented answers too, not only the
fuzz test's few examples. An answer that breaks its schema is logged (the
route and the JSON path of the first break, never the value: it may be
personal data) and answered 500, so the test that met it fails. Off in
production: the check costs a parse and a walk of each answer.

Each schema is compiled once (a validator per route), each answer checked
once: a replay under an Idempotency-Key sends the text already checked.
"""

from __future__ import annotations

import json
import logging

from jsonschema import Draft202012Validator

from shared import config

log = logging.getLogger("services.gateway")

# id(schema) -> (schema, its validator); the schema is kept so its id is not
# reused by another dict while the entry lives
_VALIDATORS: dict[int, tuple[dict, Draft202012Validator]] = {}


def enabled() -> bool:
    """QI_CHECK_ANSWERS is on (``1``)."""
    return config.get("QI_CHECK_ANSWERS").strip() in ("1", "true", "yes", "on")


def validator_of(schema: dict) -> Draft202012Validator:
    """The compiled validator of an answer schema (checked once itself)."""
    kept = _VALIDATORS.get(id(schema))
    if kept is None or kept[0] is not schema:
        Draft202012Validator.check_schema(schema)
        kept = (schema, Draft202012Validator(schema))
        _VALIDATORS[id(schema)] = kept
    return kept[1]


def json_path(path) -> str:
    """``$.visits[0].id`` for jsonschema's path ``visits, 0, id``."""
    named = "$"
    for part in path:
        named += f"[{part}]" if isinstance(part, int) else f".{part}"
    return named


def breaks(schema: dict, text: str) -> list[str]:
    """Where the JSON ``text`` breaks ``schema``: one line a break, naming the
    JSON path, the rule broken and where in the schema (no value)."""
    answer = json.loads(text)  # what the client reads, not the Python data
    found = []
    for error in validator_of(schema).iter_errors(answer):
        rule = "/".join(str(part) for part in error.absolute_schema_path)
        found.append(f"{json_path(error.absolute_path)} breaks {rule}")
    return found


def mismatch(method: str, path: str, schema: dict | None, text: str) -> bool:
    """Whether the answer ``text`` of route ``method path`` breaks its
    declared schema; each break is logged as an error."""
    if schema is None:
        return False
    found = breaks(schema, text)
    for line in found:
        log.error("answer of %s %s does not match its schema: %s", method, path, line)
    return bool(found)

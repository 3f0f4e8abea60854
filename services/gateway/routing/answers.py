"""The answers routes declare: JSON Schemas of what a route answers on
success, written into /openapi.json beside its problems.

An answer names the fields a client may rely on, with their types, and
requires the ones every answer carries; it does not forbid others (a service
may add a field without breaking a client). schemathesis checks each real
answer against its route's schema (``response_schema_conformance``), and with
QI_CHECK_ANSWERS (every test run) the gateway checks every JSON answer it
sends (routing/checked_answers.py). Keep ``OBJECT``, ``LIST`` and ``ANY`` out
of an answer's fields: tests/unit/test_gateway_routes.py refuses them.
"""

from __future__ import annotations

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
OBJECT = {"type": "object"}
LIST = {"type": "array"}
NULL = {"type": "null"}
ANY = {}  # a value whose shape belongs to another document (a stored event)
HTML = {"type": "string", "description": "HTML 页面"}
FILE = {"type": "string", "description": "文件内容"}


def maybe(schema: dict) -> dict:
    """The schema, or null (a field not yet set)."""
    return {"anyOf": [schema, NULL]}


def record(title: str, required=(), **properties: dict) -> dict:
    """An object with these fields; ``required`` are in every answer."""
    schema: dict = {"type": "object", "title": title, "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def listing(item: dict) -> dict:
    """A list of items."""
    return {"type": "array", "items": item}


def page(item: dict) -> dict:
    """A page of a list: ``{total, offset, limit, items}``."""
    return record(
        "分页",
        ("total", "offset", "limit", "items"),
        total=INTEGER,
        offset=INTEGER,
        limit=INTEGER,
        items=listing(item),
    )


def items(item: dict, **others: dict) -> dict:
    """A list under ``items`` (with other fields beside it, if any)."""
    return record("列表", ("items",), items=listing(item), **others)


def mapping(value: dict) -> dict:
    """An object of free keys (an item code, a date), each value of one schema."""
    return {"type": "object", "additionalProperties": value}


# what most answers are about: an object with its id
IDENTIFIED = record("对象", ("id",), id=STRING)


def one_of(*schemas: dict) -> dict:
    """One of these answers (which one depends on the caller)."""
    return {"anyOf": list(schemas)}

"""A request's query, headers and path: read and checked before any call, and
the OpenAPI parameters that describe them."""

from __future__ import annotations

import math
import re

from services.gateway.routing.body import (
    CONTROL,
    DAY,
    NUL,
    PLAIN,
    UnsupportedMediaType,
    has_body,
    is_json,
    problems,
)
from services.gateway.routing.body import (
    MOMENT as MOMENT_PATTERN,
)
from shared import calendar
from shared.errors import NotFound, ValidationFailed
from shared.validation import require_day

STRING = {"type": "string", "maxLength": 200}

# -- path parameters: what each id looks like ---------------------------------

# an aggregate's id (eventsourcing names each by a UUID)
UUID_ID = {"type": "string", "format": "uuid"}
# a name within its object or a code: a path segment of plain text
NAME = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": PLAIN}
USERNAME = {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{2,31}$"}
PATH_PARAMETERS = {
    **dict.fromkeys(
        (
            "demand_id",
            "referral_id",
            "complaint_id",
            "quote_id",
            "plan_id",
            "instrument_id",
            "assessment_id",
            "item_id",
            "survey_id",
            "summary_id",
            "call_back_id",
            "card_id",
            "venue_id",
            "equipment_id",
        ),
        UUID_ID,
    ),
    "username": USERNAME,
    "staff_id": USERNAME,  # a staff member is named by their account
}


def path_schema(name: str) -> dict:
    """The schema of a path parameter: an aggregate's UUID, an account's
    name, or else a plain name (a code, a sample, a visit, an institution)."""
    return PATH_PARAMETERS.get(name, NAME)


def checked_path(ids: dict) -> None:
    """A path id that cannot name any object is "not found" before any call
    (no service is asked to parse it)."""
    for name, value in ids.items():
        if problems(value, path_schema(name)):
            raise NotFound(name)


def param(name: str, required: bool = False, schema: dict | None = None) -> dict:
    """A documented query parameter."""
    found = {"name": name, "in": "query", "schema": schema or STRING}
    if required:
        found["required"] = True
    return found


# every list answers a page: {total, offset, limit, items}
PAGE = (
    param("offset", schema={"type": "integer", "minimum": 0, "maximum": 10**9}),
    param("limit", schema={"type": "integer", "minimum": 1, "maximum": 200}),
)
DATE = {"type": "string", "format": "date", "pattern": DAY}
MOMENT = {"type": "string", "format": "date-time", "pattern": MOMENT_PATTERN}
ON = param("on", schema=DATE)
# a retried POST with the same key has its first answer, and no second effect
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "schema": {"type": "string", "maxLength": 200},
}


def checked_query(request, parameters) -> None:
    """Each declared query parameter read as its schema's type and checked
    against it, and any other refused (a misspelt ``limt`` is not silently
    ignored), before any call: 400 naming the parameter."""
    declared = {p["name"] for p in parameters if p.get("in") == "query"}
    errors: list[dict] = [
        {"field": name or "query", "message": f"不认识的参数 {name or '（空名）'}"}
        for name in dict.fromkeys(request.args)
        if name not in declared
    ]
    for parameter in parameters:
        if parameter.get("in") != "query":
            continue
        name, schema = parameter["name"], parameter.get("schema", STRING)
        values = request.args.getlist(name)
        if not values:
            if parameter.get("required"):
                errors.append({"field": name, "message": "请填写" + name})
            continue
        for value in values:
            errors += _query_problems(name, value, schema)
    if errors:
        raise ValidationFailed(errors)


def _query_problems(name: str, value: str, schema: dict) -> list[dict]:
    if re.search(CONTROL, value):
        return [{"field": name, "message": "不能含有控制字符"}]
    read = _typed(value, schema.get("type"))
    if read is None:
        kind = {"integer": "整数", "number": "数字", "boolean": "true 或 false"}
        return [{"field": name, "message": "应为" + kind[schema["type"]]}]
    found = problems(read, schema)
    return [{**problem, "field": name} for problem in found]


def _typed(value: str, kind: str | None):
    """A query's text as its schema's type; None when it is not one."""
    try:
        if kind == "integer":
            return int(value) if re.fullmatch(r"[+-]?[0-9]{1,18}", value) else None
        if kind == "number":
            number = float(value)
            return number if math.isfinite(number) else None
    except ValueError:
        return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(value)
    return value


def refuse_non_json(request) -> None:
    """The JSON API reads JSON bodies only: a form or text body would be read
    as an empty object and answered with "missing field" for fields that are
    there, so it is refused by its type before anything reads it."""
    if request.path.startswith("/api/") and has_body(request) and not is_json(request):
        raise UnsupportedMediaType(request.mimetype or "(none)")


def field_with_nul(request, *path_values) -> str | None:
    """The first query, form or path field holding a NUL character, if any."""
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            if NUL in name or NUL in value:
                return name.replace(NUL, "")
    if any(isinstance(v, str) and NUL in v for v in path_values):
        return "path"
    return None


def plain(value: str, field: str) -> str:
    """A query's text, if it holds no control characters."""
    if re.search(CONTROL, value):
        raise ValidationFailed.single(field, "不能含有控制字符")
    return value


def iso_date(value: object, field: str, label: str = "") -> str:
    """A date written 2026-05-31, checked before any call (400 naming
    ``field``) and passed on as the service reads it: 2026-05-31."""
    return require_day(value, field, label).isoformat()


def day(value: str | None, field: str = "on", label: str = "") -> str:
    """A query's date (default today), checked before any call."""
    return iso_date(value or calendar.today().isoformat(), field, label)


def idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > 200:
        raise ValidationFailed.single("Idempotency-Key", "应为1到200个字符")
    return key


def page_of(request) -> tuple[int, int]:
    try:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 50))
    except ValueError:
        raise ValidationFailed.single("offset", "分页参数应为整数") from None
    if not 0 <= offset <= 1_000_000_000 or not 1 <= limit <= 200:
        raise ValidationFailed.single("limit", "limit 为 1 到 200，offset 不小于 0")
    return offset, limit


def paged(request, items: list) -> dict:
    """A page of a list a service answered whole: ``?offset=&limit=``."""
    offset, limit = page_of(request)
    return {
        "total": len(items),
        "offset": offset,
        "limit": limit,
        "items": items[offset : offset + limit],
    }

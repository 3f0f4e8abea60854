"""Request bodies: read as JSON, checked against the route's JSON Schema (Draft
2020-12) by ``jsonschema``, refused field by field in Chinese.

The gateway checks the shape — the fields a route knows (any other is
refused), their types, lengths and the size of lists — and the services check
what the values mean (a phone number's format, a date's order), each naming
the field it refuses. The builders below write the schemas every route
declares; ``title`` is the field's name in Chinese, used in "请填写…".
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime

from jsonschema import Draft202012Validator, FormatChecker

from shared.errors import ValidationFailed

MAX_BODY_BYTES = 64 * 1024
TOO_LARGE = "请求内容过大（上限 64 KB）"
# no form nests deeper than a few levels; the parser recurses once per level
MAX_DEPTH = 16
# the integers a JSON number keeps exactly (and every database column holds)
LARGEST_INTEGER = 2**53 - 1
OUT_OF_RANGE = "数字超出范围"
TOO_DEEP = f"请求内容嵌套过深（上限 {MAX_DEPTH} 层）"
NUL = "\x00"  # no database text column can hold it
NUL_MESSAGE = "不能包含空字符（\\0）"
# half of a UTF-16 pair, alone: "\\ud800" parses, but no UTF-8 can encode it
SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_MESSAGE = "含有无效的字符（单独的代理码元）"
# text the catalog keeps: no control characters (a stored event its read model
# cannot apply would stop every later one)
CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"
PLAIN = f"^[^{CONTROL[1:-1]}]*$"
# dates and moments of the years the platform works in: a service adds days
# and working hours to them, which past year 9999 no calendar can
YEARS = "(19|20|21)[0-9]{2}"
DAY = f"^{YEARS}-[0-9]{{2}}-[0-9]{{2}}$"
MOMENT = f"^{YEARS}-[0-9]{{2}}-[0-9]{{2}}[Tt]"
YEARS_OF = {"date": DAY, "date-time": MOMENT}
PATTERN_MESSAGES = {
    PLAIN: "不能含有控制字符",
    DAY: "日期应为 1900 至 2199 年间，写作 2026-05-31",
    MOMENT: "时间应为 1900 至 2199 年间，写作 2026-05-31T09:30:00+08:00",
}
FORMAT_MESSAGES = {
    "date": "日期应写作 2026-05-31",
    "date-time": "时间应写作 2026-05-31T09:30:00+08:00",
    "email": "电子邮箱格式不对",
    "uuid": "编号格式不对",
}
TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "true 或 false",
    "array": "列表",
    "object": "对象",
    "null": "null",
}


# -- the schemas routes declare ---------------------------------------------


def text(title: str, longest: int = 200, **extra) -> dict:
    """Text of at most ``longest`` characters; a date or a moment (``format``)
    also of the years the platform works in."""
    if "pattern" not in extra and extra.get("format") in YEARS_OF:
        extra["pattern"] = YEARS_OF[extra["format"]]
    return {"type": "string", "title": title, "maxLength": longest, **extra}


def plain(title: str, longest: int = 200) -> dict:
    """Text without control characters."""
    return text(title, longest, pattern=PLAIN)


def plains(title: str, longest: int = 200, most: int = 50) -> dict:
    return {**texts(title, longest, most), "items": plain(title, longest)}


def day(title: str) -> dict:
    """A date written 2026-05-31."""
    return text(title, 10, format="date")


def moment(title: str) -> dict:
    """An RFC 3339 moment with its offset."""
    return text(title, 40, format="date-time")


def flag(title: str) -> dict:
    return {"type": "boolean", "title": title}


# a count, a number of days or minutes, a year, a version: never negative, and
# small enough that no calendar walk or date sum over it runs long or overflows
MOST = 100_000


def whole(title: str, **extra) -> dict:
    return {"type": "integer", "title": title, "minimum": 0, "maximum": MOST, **extra}


def choice(title: str, values) -> dict:
    return {"enum": list(values), "title": title}


def texts(title: str, longest: int = 200, most: int = 50) -> dict:
    return {
        "type": "array",
        "title": title,
        "items": text(title, longest),
        "maxItems": most,
    }


def listed(title: str, item: dict, most: int = 50, **extra) -> dict:
    return {"type": "array", "title": title, "items": item, "maxItems": most, **extra}


def mapping(title: str, values: dict, most: int = 50) -> dict:
    """An object of free keys, each value of one schema."""
    return {
        "type": "object",
        "title": title,
        "propertyNames": {"maxLength": 200, "pattern": PLAIN},
        "additionalProperties": values,
        "maxProperties": most,
    }


def ignored(title: str, why: str) -> dict:
    """A field a client may send that the gateway does not take from the body
    (the caller's institution, the caller, the platform's clock)."""
    return text(title, 200, description=f"忽略：{why}")


def fields(properties: dict, required=(), title: str = "") -> dict:
    """An object of known fields; any other is refused."""
    schema: dict = {"type": "object", "properties": properties}
    if title:
        schema["title"] = title
    if required:
        schema["required"] = list(required)
    schema["additionalProperties"] = False
    return schema


NOTHING = fields({})  # a command without fields: a body, if any, is {}


# -- reading and checking ---------------------------------------------------


def has_body(request) -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )


def is_json(request) -> bool:
    mimetype = request.mimetype or ""
    return mimetype == "application/json" or mimetype.endswith("+json")


class UnsupportedMediaType(Exception):
    """A body in a type the route does not read (the JSON API reads JSON only)."""


def json_object(request) -> dict:
    """The request's JSON object, or 400 naming ``body`` (or the field at
    fault) before any service sees it: too large, not UTF-8, nested deeper
    than ``MAX_DEPTH`` (counted on the text, before the parser recurses),
    not JSON, not an object; a NUL character, a lone surrogate, a number
    that is not finite or not exact (see ``_refuse_unstorable``)."""
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise ValidationFailed.single("body", TOO_LARGE)
    if has_body(request) and not is_json(request):
        raise UnsupportedMediaType(request.mimetype or "(none)")
    body = parsed(_raw(request))
    if not isinstance(body, dict):
        raise ValidationFailed.single("body", "请求内容应为 JSON 对象")
    _refuse_unstorable(body, "")
    return body


def _raw(request) -> bytes:
    """The body's bytes, at most ``MAX_BODY_BYTES`` also when it is sent in
    chunks without a length."""
    if request.content_length is not None:
        return request.get_data(cache=True)
    data = request.stream.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise ValidationFailed.single("body", TOO_LARGE)
    return data


def parsed(data: bytes) -> object:
    """JSON text as Python values; ``ValidationFailed`` for anything else."""
    try:
        text_ = data.decode("utf-8") if data else "{}"
    except UnicodeDecodeError:
        raise ValidationFailed.single("body", "请求内容应为 UTF-8 编码") from None
    if nesting(text_) > MAX_DEPTH:
        raise ValidationFailed.single(
            "body", f"请求内容嵌套过深（上限 {MAX_DEPTH} 层）"
        )
    try:
        return json.loads(
            text_, parse_constant=_not_a_number, parse_float=_finite, parse_int=_exact
        )
    except (ValueError, RecursionError):
        raise ValidationFailed.single("body", "请求内容不是有效的 JSON") from None


# what changes the depth or whether a bracket is text: brackets, quotes, escapes
_MARKS = re.compile(r'[\[\]{}"\\]')


def nesting(text_: str) -> int:
    """How deep the text's arrays and objects nest, brackets inside strings
    not counted: one pass over the marks, never recursing, never rescanning
    (brackets after an unclosed string are not counted: the parser stops at
    that string)."""
    depth = deepest = 0
    in_string = False
    escaped_at = -1
    for mark in _MARKS.finditer(text_):
        char, at = mark.group(), mark.start()
        if in_string:
            if at == escaped_at:
                continue
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
        elif char in "]}":
            depth -= 1
    return deepest


def _not_a_number(constant: str):
    raise ValueError(constant)  # NaN and Infinity are not JSON


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):
        raise ValidationFailed.single("body", OUT_OF_RANGE)
    return value


def _exact(number: str) -> int:
    value = int(number)
    if not -LARGEST_INTEGER <= value <= LARGEST_INTEGER:
        raise ValidationFailed.single("body", OUT_OF_RANGE)
    return value


def checked(request, schema: dict) -> dict:
    """The body, refused with every field that breaks ``schema``."""
    body = json_object(request)
    errors = problems(body, schema)
    if errors:
        raise ValidationFailed(errors)
    return body


def unstorable(value: str) -> str | None:
    """Why a text cannot be kept, if it cannot: a NUL (no database text
    column holds it) or a lone surrogate (no UTF-8 encodes it)."""
    if NUL in value:
        return NUL_MESSAGE
    if SURROGATE.search(value):
        return SURROGATE_MESSAGE
    return None


def _refuse_unstorable(value, field: str) -> None:
    if isinstance(value, str):
        why = unstorable(value)
        if why:
            raise ValidationFailed.single(field or "body", why)
    elif isinstance(value, dict):
        for key, item in value.items():
            why = unstorable(key)
            name = f"{field}.{key}" if field else key
            if why:
                raise ValidationFailed.single(_printable(name), why)
            _refuse_unstorable(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_unstorable(item, f"{field}[{index}]")


def _printable(name: str) -> str:
    """A field's name without what it cannot say (an answer is UTF-8 too)."""
    return SURROGATE.sub("\ufffd", name.replace(NUL, ""))


# the formats a body's schema may name, checked here (jsonschema checks
# "date-time" only with an extra package; a service reads it with fromisoformat)
FORMATS = FormatChecker(["date", "email", "uuid"])
_MOMENT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$"
)


@FORMATS.checks("date-time", raises=(ValueError, OverflowError))
def is_moment(value: object) -> bool:
    """RFC 3339 with its offset, and a moment Python can read and convert."""
    if not isinstance(value, str):
        return True
    if not _MOMENT.match(value):
        return False
    moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    moment.astimezone(UTC)  # raises for a moment past the calendar's ends
    return True


_VALIDATORS: dict[int, Draft202012Validator] = {}


def problems(body: dict, schema: dict) -> list[dict]:
    """Each field of ``body`` that breaks ``schema``: ``{field, message}``."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema, format_checker=FORMATS)
        _VALIDATORS[id(schema)] = validator
    found: list[dict] = []
    for error in validator.iter_errors(body):
        for problem in _described(error):
            # one message a field: the first its schema's checks find
            if all(problem["field"] != seen["field"] for seen in found):
                found.append(problem)
    return found


def _name(path) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name


def _described(error) -> list[dict]:
    """jsonschema's error as the gateway's {field, message}, in Chinese."""
    at = _name(error.absolute_path)
    kind, value, schema = error.validator, error.validator_value, error.schema

    def field(key: str) -> str:
        return f"{at}.{key}" if at else key

    if kind == "required":
        known = schema.get("properties", {})
        return [
            {
                "field": field(key),
                "message": "请填写" + known.get(key, {}).get("title", key),
            }
            for key in value
            if key not in error.instance
        ]
    if kind == "additionalProperties":
        known = set(schema.get("properties", {}))
        return [
            {
                "field": field(key) if key else (at or "body"),
                "message": f"不认识的字段 {key or '（空名）'}",
            }
            for key in error.instance
            if key not in known
        ]
    if kind == "minLength" and value == 1:
        return [{"field": at or "body", "message": "请填写" + schema.get("title", at)}]
    return [{"field": at or "body", "message": _message(kind, value)}]


def _message(kind: str, value) -> str:
    if kind == "type":
        kinds = [value] if isinstance(value, str) else value
        return "应为" + "或".join(TYPE_NAMES.get(k, k) for k in kinds)
    if kind == "enum":
        return "应为：" + "、".join(str(v) for v in value)
    return {
        "maxLength": f"不能超过 {value} 个字符",
        "minLength": f"至少 {value} 个字符",
        "maxItems": f"不能超过 {value} 项",
        "minItems": f"至少 {value} 项",
        "maxProperties": f"不能超过 {value} 项",
        "maximum": f"不能大于 {value}",
        "pattern": PATTERN_MESSAGES.get(value, "格式不对"),
        "format": FORMAT_MESSAGES.get(value, "格式不对"),
        "minimum": f"不能小于 {value}",
    }.get(kind, "格式不对")

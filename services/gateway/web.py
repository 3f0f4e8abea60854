"""HTTP plumbing shared by the gateway's routes: bodies, pages, errors."""

from __future__ import annotations

import json
import logging
from datetime import date

import eventlet
from nameko.exceptions import UnknownService

from services.gateway.access import Forbidden, Hidden, Unauthenticated
from services.gateway.problems import problem
from services.gateway.tokens import TokenError
from shared import config, logs
from shared.errors import (
    ConflictError,
    DependencyUnavailable,
    NotFound,
    ValidationFailed,
)

log = logging.getLogger("services.gateway")

MAX_BODY_BYTES = 64 * 1024


class ServiceUnavailable(Exception):
    pass


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int):
        super().__init__("too many attempts")
        self.retry_after = retry_after


def call(method, *args, **kwargs):
    """An RPC call bounded in time, so a stopped service gives 503, not a hang."""
    try:
        with eventlet.Timeout(config.get_float("QI_RPC_TIMEOUT_SECONDS")):
            return method(*args, **kwargs)
    except eventlet.Timeout:
        raise ServiceUnavailable("timed out") from None


def iso_date(value: object, field: str) -> str:
    """A date written 2026-05-31, checked before any call; 400 naming ``field``."""
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed.single(field, "日期应写作 2026-05-31") from None
    return value


def day(value: str | None, field: str = "on") -> str:
    """A query's date (default today), checked before any call."""
    return iso_date(value or date.today().isoformat(), field)


NUL = "\x00"  # no database text column can hold it
NUL_MESSAGE = "不能包含空字符（\\0）"


def field_with_nul(request, *path_values) -> str | None:
    """The first query, form or path field holding a NUL character, if any."""
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            if NUL in name or NUL in value:
                return name.replace(NUL, "")
    if any(isinstance(v, str) and NUL in v for v in path_values):
        return "path"
    return None


def _refuse_nul(value, field: str) -> None:
    if isinstance(value, str):
        if NUL in value:
            raise ValidationFailed.single(field, NUL_MESSAGE)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{field}.{key}" if field != "body" else str(key)
            if NUL in key:
                raise ValidationFailed.single(name.replace(NUL, ""), NUL_MESSAGE)
            _refuse_nul(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, f"{field}[{index}]")


def json_body(request) -> dict:
    """The request's JSON object; 400 naming ``body`` when it is not one."""
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise ValidationFailed.single("body", "请求内容过大（上限 64 KB）")
    try:
        body = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        raise ValidationFailed.single("body", "请求内容不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise ValidationFailed.single("body", "请求内容应为 JSON 对象")
    _refuse_nul(body, "body")
    return body


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


def errors_to_response(func):
    def wrapper(self, request, *args, **kwargs):
        logs.current_service.set("gateway")
        try:
            field = field_with_nul(request, *args, *kwargs.values())
            if field is not None:
                raise ValidationFailed.single(field, NUL_MESSAGE)
            return func(self, request, *args, **kwargs)
        except ValidationFailed as exc:
            return problem(400, "请求内容有误", errors=exc.errors)
        except (Unauthenticated, TokenError) as exc:
            return problem(401, "需要登录", str(exc))
        except Forbidden as exc:
            return problem(403, "无权操作", str(exc))
        except (NotFound, Hidden):
            return problem(404, "未找到")
        except ConflictError as exc:
            return problem(409, "操作冲突", str(exc))
        except TooManyAttempts as exc:
            response = problem(429, "尝试次数过多，请稍后再试")
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except (ServiceUnavailable, UnknownService, DependencyUnavailable):
            return problem(503, "服务暂不可用，请稍后再试")
        except Exception:  # noqa: BLE001 - never a stack trace to the client
            log.exception("unhandled error in %s", func.__name__)
            return problem(500, "服务器内部错误")

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def text_field(body: dict, field: str) -> str:
    """A body field that must be text (empty when absent); the service checks
    what the text says."""
    value = body.get(field, "")
    if not isinstance(value, str):
        raise ValidationFailed.single(field, "应为文字")
    return value


def list_field(body: dict, field: str) -> list:
    value = body.get(field, [])
    if not isinstance(value, list):
        raise ValidationFailed.single(field, "应为列表")
    return value


def object_field(body: dict, field: str) -> dict:
    value = body.get(field)
    if not isinstance(value, dict):
        raise ValidationFailed.single(field, "应为对象")
    return value


def paged(request, items: list) -> dict:
    """A page of a list a service answered whole: ``?offset=&limit=``."""
    offset, limit = page_of(request)
    return {
        "total": len(items),
        "offset": offset,
        "limit": limit,
        "items": items[offset : offset + limit],
    }

"""What each failure means to the caller: its HTTP status and its words, one
table for the JSON API (problem+json titles) and the console (page messages).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from nameko.exceptions import UnknownService
from werkzeug.exceptions import RequestEntityTooLarge

from services.gateway.access import (
    Forbidden,
    Hidden,
    TooManyAttempts,
    Unauthenticated,
)
from services.gateway.replays import KeyReused
from services.gateway.routing.body import UnsupportedMediaType
from services.gateway.tokens import TokenError
from shared.errors import (
    ConflictError,
    DependencyUnavailable,
    NotFound,
    ValidationFailed,
)

log = logging.getLogger("services.gateway")

JSON_TYPE_MESSAGE = (
    "请以 JSON 发送请求内容：加请求头 Content-Type: application/json"
    "（curl 用 -H 'Content-Type: application/json' 或 --json）"
)


def conflict_message(exc: Exception) -> str:
    """A service's conflict in Chinese; an English one is never shown."""
    message = str(exc)
    if any("\u4e00" <= c <= "\u9fff" for c in message):
        return message
    return "此记录刚被他人修改，请刷新页面后重试"


@dataclass(frozen=True)
class Refusal:
    status: int
    title: str  # the API's problem title
    page: str  # the console's message
    detail: str = ""
    errors: list | None = None
    headers: dict = field(default_factory=dict)


def refusal(exc: Exception, where: str = "") -> Refusal:
    """The answer to a failure; an unexpected one is logged, never shown."""
    if isinstance(exc, UnsupportedMediaType):
        return Refusal(
            415,
            "请求内容类型不支持",
            "请求内容类型不支持",
            f"收到的类型为 {exc}；{JSON_TYPE_MESSAGE}",
            [{"field": "Content-Type", "message": JSON_TYPE_MESSAGE}],
        )
    if isinstance(exc, KeyReused):
        return Refusal(
            422, "幂等键已用于另一项请求", "幂等键已用于另一项请求", errors=exc.errors
        )
    if isinstance(exc, ValidationFailed):
        return Refusal(400, "请求内容有误", "填写的内容有误", errors=exc.errors)
    if isinstance(exc, RequestEntityTooLarge):
        message = "上传的文件过大，请压缩或拆分后重新上传"
        errors = [{"field": "file", "message": message}]
        return Refusal(413, "上传的文件过大", message, errors=errors)
    if isinstance(exc, Unauthenticated | TokenError):
        return Refusal(401, "需要登录", "请先登录", str(exc))
    if isinstance(exc, Forbidden):
        return Refusal(403, "无权操作", "当前账号无权进行此操作", str(exc))
    if isinstance(exc, NotFound | Hidden):
        return Refusal(404, "未找到", "未找到您要的页面或记录")
    if isinstance(exc, ConflictError):
        message = conflict_message(exc)
        return Refusal(409, "操作冲突", f"操作未完成：{message}", str(exc))
    if isinstance(exc, TooManyAttempts):
        retry = {"Retry-After": str(exc.retry_after)}
        return Refusal(
            429,
            "尝试次数过多，请稍后再试",
            exc.detail or "尝试次数过多，请稍后再试",
            exc.detail,
            headers=retry,
        )
    if isinstance(exc, UnknownService | DependencyUnavailable):
        return Refusal(503, "服务暂不可用，请稍后再试", "服务暂不可用，请稍后再试")
    log.error("unhandled error in %s", where, exc_info=exc)
    return Refusal(500, "服务器内部错误", "系统出错了，请稍后再试")

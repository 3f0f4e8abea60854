"""What every page's handler shares: errors as Chinese pages, the CSRF check."""

from __future__ import annotations

import functools
import logging

from nameko.exceptions import UnknownService

from services.gateway.access import Forbidden, Hidden, Unauthenticated
from services.gateway.pages import rendering
from services.gateway.tokens import TokenError
from services.gateway.web import (
    ServiceUnavailable,
    TooManyAttempts,
    field_with_nul,
)
from shared import logs
from shared.errors import ConflictError, DependencyUnavailable, NotFound

log = logging.getLogger("services.gateway")


class FormRefused(Exception):
    """A form a rule refused: what was typed and the messages by field."""

    def __init__(self, form: dict, errors: dict[str, str]):
        super().__init__("form refused")
        self.form, self.errors = form, errors


def html_errors(func):
    """Like web.errors_to_response, but every answer is a page in Chinese."""

    @functools.wraps(func)
    def wrapper(self, request, *args, **kwargs):
        logs.current_service.set("gateway")
        try:
            if request.content_length and (
                request.content_length > rendering.MAX_FORM_BYTES
            ):
                return self._error_page(request, 413, "提交的内容过大（上限 20 MB）")
            if field_with_nul(request, *args, *kwargs.values()) is not None:
                return self._error_page(
                    request, 400, "填写的内容含有无法保存的空字符，请删除后重新提交"
                )
            return func(self, request, *args, **kwargs)
        except (Unauthenticated, TokenError):
            return rendering.login_redirect(request)
        except Forbidden:
            return self._error_page(request, 403, "当前账号无权进行此操作")
        except (NotFound, Hidden):
            return self._error_page(request, 404, "未找到您要的页面或记录")
        except ConflictError as exc:
            message = rendering.conflict_message(exc)
            return self._error_page(request, 409, f"操作未完成：{message}")
        except TooManyAttempts:
            return self._error_page(request, 429, "尝试次数过多，请稍后再试")
        except (ServiceUnavailable, UnknownService, DependencyUnavailable):
            return self._error_page(request, 503, "服务暂不可用，请稍后再试")
        except Exception:  # noqa: BLE001 - never a stack trace to the visitor
            log.exception("unhandled error in page %s", func.__name__)
            return self._error_page(request, 500, "系统出错了，请稍后再试")

    return wrapper


def with_csrf(func):
    """A form that changes something must carry the visitor's CSRF token."""

    @functools.wraps(func)
    def wrapper(self, request, *args, **kwargs):
        if not rendering.csrf_ok(request):
            return self._error_page(request, 403, "页面已过期，请返回刷新后重新提交")
        return func(self, request, *args, **kwargs)

    return wrapper

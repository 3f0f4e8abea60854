"""What every page's handler shares: who is looking, failures as Chinese pages
(by the same table as the API's problems), the CSRF check."""

from __future__ import annotations

import functools
from collections.abc import Callable

from services.gateway.access import ANONYMOUS, Unauthenticated
from services.gateway.pages import rendering
from services.gateway.pages.rendering import SESSION_COOKIE, field_errors, render, text
from services.gateway.routing.query import field_with_nul
from services.gateway.routing.refusals import conflict_message, refusal
from services.gateway.tokens import TokenError
from shared import logs
from shared.audit import Actor
from shared.errors import ConflictError, ValidationFailed
from shared.validation import require_filled


class FormRefused(Exception):
    """A form a rule refused: what was typed and the messages by field."""

    def __init__(self, form: dict, errors: dict[str, str]):
        super().__init__("form refused")
        self.form, self.errors = form, errors


def visitor(gw, request) -> Actor:
    """The signed-in user from the session cookie, or an anonymous visitor."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return ANONYMOUS
    return gw.auth.identify(token)


def signed_in(gw, request) -> Actor:
    """The signed-in user; a visitor is sent to the login page."""
    actor = visitor(gw, request)
    if actor is ANONYMOUS:
        raise Unauthenticated("请先登录")
    return actor


def error_page(gw, request, status: int, message: str):
    """A page saying what went wrong; signed-in users keep their menu."""
    try:
        actor = visitor(gw, request)
    except TokenError:
        actor = ANONYMOUS
    return render(request, "error.html", status, actor=actor, message=message)


def html_errors(func):
    """Every answer of a page handler is a page in Chinese: a failure is
    answered by the gateway's one table of refusals, a missing login by the
    login page."""

    @functools.wraps(func)
    def wrapper(self, request, *args, **kwargs):
        logs.current_service.set("gateway")
        try:
            if request.content_length and (
                request.content_length > rendering.MAX_FORM_BYTES
            ):
                return error_page(self, request, 413, "提交的内容过大（上限 20 MB）")
            if field_with_nul(request, *args, *kwargs.values()) is not None:
                return error_page(
                    self,
                    request,
                    400,
                    "填写的内容含有无法保存的空字符，请删除后重新提交",
                )
            return func(self, request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - never a stack trace to the visitor
            refused = refusal(exc, f"page {func.__name__}")
            if refused.status == 401:
                return rendering.login_redirect(request)
            page = error_page(self, request, refused.status, refused.page)
            page.headers.update(refused.headers)  # Retry-After of a 429
            return page

    return wrapper


def with_csrf(func):
    """A form that changes something must carry the visitor's CSRF token."""

    @functools.wraps(func)
    def wrapper(self, request, *args, **kwargs):
        if not rendering.csrf_ok(request):
            return error_page(self, request, 403, "页面已过期，请返回刷新后重新提交")
        return func(self, request, *args, **kwargs)

    return wrapper


def submitted(
    run: Callable[[], object],
    again: Callable[..., object],
    done: Callable[[object], str],
    prefix: str = "",
    shown: dict | None = None,
    errors_of: Callable[[list[dict]], dict] | None = None,
    conflicts: bool = True,
):
    """A form's command: ``run`` it and go on to ``done(answer)``; refused by a
    rule, the page ``again`` (status 400) with the messages by field (prefixed
    with the form's name) and what was typed; a concurrent change, the page
    again (409) saying so (unless ``conflicts`` is off: then an error page)."""
    try:
        answer = run()
    except ValidationFailed as exc:
        errors = (
            errors_of(exc.errors) if errors_of else field_errors(exc.errors, prefix)
        )
        return again(400, errors=errors, form=shown or {})
    except ConflictError as exc:
        if not conflicts:
            raise
        return again(409, errors={f"{prefix}.form": conflict_message(exc)})
    return rendering.redirect(done(answer))


def one_field_submitted(
    gw, request, use, ids: dict, field: str, label: str, again, done: str, prefix: str
):
    """A form of one required text ``field`` for ``use`` on the object of
    ``ids``: refused empty (naming ``label``) with the page ``again(actor,
    status, **context)``, else on to ``done``."""
    actor = signed_in(gw, request)
    found = use.check(gw, actor, ids)
    value = text(request.form, field)

    def run():
        require_filled({field: (value, label)})
        use.run(gw, actor, found, **ids, **{field: value})

    return submitted(
        run,
        lambda status, **context: again(actor, status, **context),
        lambda _: done,
        prefix,
        {field: value},
        conflicts=False,
    )

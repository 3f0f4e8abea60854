"""The field checks of every service: one rule each, with one Chinese message.

Each check takes the value, the field's name (as the caller wrote it, e.g.
``needs[0].item_code``) and its label in Chinese, and returns the clean value
or raises ``ValidationFailed`` naming the field, before anything is stored.
Called alone, a check refuses at its first bad field; through ``Errors`` a
form's checks all run and every bad field is named in one answer (the
gateway's 400 lists each), then nothing is stored:

    errors = Errors()
    name = errors.check(require_text, form.get("name"), "name", "名称", 100)
    on = errors.check(require_day, form.get("on"), "on", "日期")
    if on and on.year < 2000:
        errors.add("on", "日期不能早于2000年")
    errors.raise_if_any()
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

from shared.calendar import SHANGHAI
from shared.errors import ValidationFailed

T = TypeVar("T")

# A phone of the registration form's contact line (T/JAS 12—2023 Appendix B):
# an 11-digit mobile number, or a landline with its area code and optionally
# an extension (025-83210000, 02583210000, 0512-6688123-801).
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
# an e-mail address: a local part, @ and a domain ending in a top-level name
EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
DAY_EXAMPLE = "2026-05-31"
MOMENT_EXAMPLE = "2026-05-06T09:00:00+08:00"
TYPED_MOMENT_EXAMPLE = "2026-11-26 10:00"
# China keeps one clock all year (UTC+8, no daylight saving): a time typed
# on a page without an offset is on it
CHINA_TIME = SHANGHAI


def require_text(value: Any, field: str, label: str, max_len: int = 500) -> str:
    """Text that is there, at most ``max_len`` characters once trimmed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationFailed.single(field, f"请填写{label}")
    if not isinstance(value, str):
        raise ValidationFailed.single(field, f"{label}应为文字")
    text = value.strip()
    if len(text) > max_len:
        raise ValidationFailed.single(field, f"{label}不能超过{max_len}个字")
    return text


def require_given(value: Any, field: str, label: str) -> Any:
    """Anything but nothing (None, blank text, an empty list): a form's field
    that must be filled, ticked or chosen. A label that is a whole prompt
    (请选择…, 请勾选…) is the message as it is; otherwise 请填写 + label."""
    if value is None or (isinstance(value, str) and not value.strip()):
        given = False
    else:
        given = bool(value) if isinstance(value, list | tuple | set | dict) else True
    if not given:
        message = label if label.startswith("请") else f"请填写{label}"
        raise ValidationFailed.single(field, message)
    return value


def require_filled(fields: Mapping[str, tuple[Any, str]]) -> None:
    """``require_given`` for each of ``{field: (value, label)}``, every empty
    one named in one refusal, before anything is called."""
    errors = Errors()
    for field, (value, label) in fields.items():
        errors.check(require_given, value, field, label)
    errors.raise_if_any()


def require_choice(value: Any, field: str, label: str, choices: Mapping) -> Any:
    """One of the keys of ``choices`` (its labels are what staff read)."""
    if not isinstance(value, Hashable) or value not in choices:
        raise ValidationFailed.single(field, f"{label}应为：" + "、".join(choices))
    return value


def require_phone(value: Any, field: str, label: str = "联系电话") -> str:
    """A mobile or landline number (Appendix B's contact phone), trimmed."""
    text = require_text(value, field, label, 20)
    if not (MOBILE.match(text) or LANDLINE.match(text)):
        raise ValidationFailed.single(field, f"{label}应为11位手机号或带区号的固定电话")
    return text


def require_email(value: Any, field: str, label: str = "电子邮箱") -> str:
    """An e-mail address of at most 100 characters, trimmed."""
    text = require_text(value, field, label, 100)
    if not EMAIL.match(text):
        raise ValidationFailed.single(field, f"{label}格式不正确，如 name@example.cn")
    return text


def _or_nothing(rule: Callable[..., str]) -> Callable[..., str]:
    """The optional twin of a text rule: nothing given (None or "") is "",
    anything else must pass ``rule`` (same arguments, same messages)."""

    def check(value: Any, field: str, *args: Any, **kwargs: Any) -> str:
        if value in (None, ""):
            return ""
        return rule(value, field, *args, **kwargs)

    check.__name__ = check.__qualname__ = rule.__name__.replace("require", "optional")
    check.__doc__ = f"Like ``{rule.__name__}``, but nothing given is ''."
    return check


optional_text = _or_nothing(require_text)
optional_phone = _or_nothing(require_phone)
optional_email = _or_nothing(require_email)


def require_day(value: Any, field: str, label: str = "") -> date:
    """A calendar day: a ``date`` or ISO text (2026-05-31). A datetime is
    refused, not truncated: its day depends on the time zone it is read in."""
    if isinstance(value, datetime):
        raise ValidationFailed.single(field, f"{label}应为日期，不含时间")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed.single(
            field, f"{label}应为日期，如 {DAY_EXAMPLE}"
        ) from None


def _read_moment(value: Any, field: str, refusal: str) -> datetime:
    """A ``datetime`` as it is, or ISO 8601 text read as one; else refused."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed.single(field, refusal) from None


def _is_naive(moment: datetime) -> bool:
    return moment.tzinfo is None or moment.utcoffset() is None


def aware(value: Any, field: str, label: str = "") -> datetime:
    """A moment with its offset: an aware ``datetime`` or ISO 8601 text
    (2026-05-06T09:00:00+08:00). A naive one is refused, never guessed."""
    moment = _read_moment(value, field, f"{label}应为带时区的时间，如 {MOMENT_EXAMPLE}")
    if _is_naive(moment):
        raise ValidationFailed.single(field, f"{label or '时间'}应带时区")
    return moment


def typed_moment(value: Any, field: str, label: str = "") -> datetime:
    """A moment as a person types it on a page (2026-11-26 10:00, what a
    browser's date-time field sends, or ISO 8601): one without an offset is
    on China's clock (``CHINA_TIME``), one with an offset keeps it."""
    refusal = f"{label}应写作 {TYPED_MOMENT_EXAMPLE}（北京时间）"
    moment = _read_moment(value, field, refusal)
    return moment.replace(tzinfo=CHINA_TIME) if _is_naive(moment) else moment


def require_status(
    current: str, allowed: tuple[str, ...], action: str, labels: dict, noun: str
) -> None:
    """Refuse a transition not allowed from ``current``, naming ``status``."""
    if current not in allowed:
        now = labels.get(current, current)
        raise ValidationFailed.single("status", f"{noun}当前为“{now}”，不能{action}")


class Errors:
    """Every bad field of one form, collected, then raised together."""

    def __init__(self) -> None:
        self.errors: list[dict] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def check(self, rule: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``rule(*args, **kwargs)``, or None with its errors collected."""
        with self.collect():
            return rule(*args, **kwargs)
        return None

    @contextmanager
    def collect(self, prefix: str = "") -> Iterator[None]:
        """Collect what the block refuses, each field named after ``prefix``
        (``demands[1].`` + ``contact_phone``); the code after it runs on."""
        try:
            yield
        except ValidationFailed as failed:
            for error in failed.errors:
                self.add(prefix + error["field"], error["message"])

    def __len__(self) -> int:
        return len(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(list(self.errors))

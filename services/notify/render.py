"""Every message's words, from its template in ``templates/`` (one per kind).

A template defines the blocks ``subject`` and ``text`` (plain text: the
e-mail's body, the inbox's, an SMS's subject) and may define ``html`` (the
e-mail's HTML part, printable: the one-time materials notice, 7.4.3); a
template without one gets ``_mail.html.j2``, the text in paragraphs. Text is
not escaped; HTML is (``{% autoescape true %}`` in each HTML block), so what a
member of staff typed can never become markup. Undefined names fail: a
template never sends a message with a hole in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.notify.contract import KINDS
from shared.calendar import SHANGHAI

TEMPLATES = Path(__file__).resolve().parent / "templates"
CHINA = SHANGHAI
PLATFORM = "质量基础设施“一站式”服务平台"
SIGNATURE = f"{PLATFORM}\n（本消息由系统自动发送，请勿直接回复）"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def when(value: str) -> str:
    """An ISO moment as Beijing time: 2026年11月4日 17:30."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def day(value: str) -> str:
    """An ISO date or moment as a Chinese date: 2026年11月4日."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA)
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["day"] = day
    env.globals["platform"] = PLATFORM
    env.globals["signature"] = SIGNATURE
    return env


ENV = _environment()


def _block(template, name: str, context: dict) -> str:
    return "".join(template.blocks[name](template.new_context(context))).strip()


def render(kind: str, context: dict) -> Rendered:
    """The message of ``kind`` with ``context``; KeyError for an unknown kind."""
    if kind not in KINDS:
        raise KeyError(kind)
    template = ENV.get_template(f"{kind}.j2")
    subject = " ".join(_block(template, "subject", context).split())
    text = _block(template, "text", context)
    if "html" in template.blocks:
        html = _block(template, "html", context)
    else:
        html = ENV.get_template("_mail.html.j2").render(subject=subject, text=text)
    return Rendered(subject=subject, text=text, html=html.strip())

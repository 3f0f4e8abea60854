"""The console's inbox (7.4.3, 8.3.4, 8.3.5, 9.4): the messages notify made
for the caller's institution and role — a partner's referrals sent, signed
for, due soon or overdue; the managers' escalations and qualification flags;
staff's messages for a lone expert's referrals — newest first, each one
opened and printed on its own.

Whose a message is: notify says (``INBOX_AUDIENCES`` below mirrors its
rule), so the caller reads only its own institution's, and of those only
what its role is told; another's message is "not found".
"""

from __future__ import annotations

from services.gateway import access
from services.gateway.usecases.operation import Owner, use_case
from shared.audit import Actor

INBOX_ROLES = frozenset({"partner", "staff", "manager"})
# which audiences' messages each role reads in its institution's inbox
INBOX_AUDIENCES = {
    "partner": ("partner",),
    "staff": ("staff",),
    "manager": ("manager", "staff"),
}


def readable(actor: Actor, message: dict) -> bool:
    return bool(actor.institution) and (
        message.get("institution") == actor.institution
        and message.get("audience") in INBOX_AUDIENCES.get(actor.role, ())
    )


def _own(gw, actor: Actor, ids: dict) -> None:
    return None  # the institution and role are the caller's, not the request's


def _message(gw, actor: Actor, ids: dict) -> dict:
    message = gw.notify.message(ids["message_id"])
    if not readable(actor, message):
        raise access.Hidden()
    return message


OWN_INBOX = Owner(
    "own inbox",
    "收件箱：发给调用者本机构、本角色的消息（合作机构、服务人员、管理人员），"
    "机构以调用者为准",
    _own,
)
INBOX_MESSAGE = Owner(
    "inbox message",
    "收件箱中的一条消息：发给调用者本机构、本角色的（由通知服务记录的收件人核对）",
    _message,
    ("message_id",),
)


def shown(message: dict) -> dict:
    """What the inbox shows of a message: its words and where its deliveries
    stand (addresses masked by notify), not its history."""
    return {k: v for k, v in message.items() if k != "history"}


@use_case(roles=INBOX_ROLES, owner=OWN_INBOX)
def inbox(gw, actor: Actor, _, *, offset: int = 0, limit: int = 50) -> dict:
    """The caller's own inbox, a page at a time."""
    page = gw.notify.inbox(
        {"id": actor.id, "role": actor.role, "institution": actor.institution},
        offset,
        limit,
    )
    return {**page, "items": [shown(m) for m in page["items"]]}


@use_case(roles=INBOX_ROLES, owner=INBOX_MESSAGE)
def message(gw, actor: Actor, found: dict, *, message_id: str) -> dict:
    """One message of the caller's inbox, to read and print."""
    return found

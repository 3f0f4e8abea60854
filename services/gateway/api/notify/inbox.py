"""The caller's inbox over HTTP: the messages notify made for the caller's
institution and role (8.3.4, 8.3.5, 9.4), newest first."""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.declare import Call, route
from services.gateway.routing.query import PAGE
from services.gateway.usecases import messages

DELIVERY = answers.record(
    "一个渠道的送达情况",
    ("status", "status_label", "attempts"),
    status=answers.STRING,
    status_label=answers.STRING,
    to=answers.maybe(answers.STRING),  # the address, masked by notify
    attempts=answers.INTEGER,
)
MESSAGE = answers.record(
    "消息",
    ("id", "kind", "kind_label", "subject", "text", "created_at", "status"),
    id=answers.STRING,
    kind=answers.STRING,
    kind_label=answers.STRING,
    audience=answers.STRING,
    institution=answers.STRING,
    demand_id=answers.maybe(answers.STRING),
    complaint_number=answers.maybe(answers.STRING),
    subject=answers.STRING,
    text=answers.STRING,
    link=answers.maybe(answers.STRING),
    created_at=answers.STRING,
    status=answers.STRING,
    status_label=answers.STRING,
    deliveries=answers.mapping(DELIVERY),
)


class InboxRoutes:
    @route(
        "GET",
        "/api/v1/inbox",
        messages.inbox,
        "本人收件箱：发给本机构、本角色的消息（转办派发、签收、期限提醒、督办等）",
        query=PAGE,
        answer=answers.page(MESSAGE),
    )
    def inbox(self, call: Call):
        """Only the caller's own: the institution and role come from the login."""
        offset, limit = call.page()
        return call.run(offset=offset, limit=limit)

"""The caller's inbox over HTTP: the messages notify made for the caller's
institution and role (8.3.4, 8.3.5, 9.4), newest first."""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.declare import Call, route
from services.gateway.routing.query import PAGE
from services.gateway.usecases import messages


class InboxRoutes:
    @route(
        "GET",
        "/api/v1/inbox",
        messages.inbox,
        "本人收件箱：发给本机构、本角色的消息（转办派发、签收、期限提醒、督办等）",
        query=PAGE,
        answer=answers.record("收件箱", ()),
    )
    def inbox(self, call: Call):
        """Only the caller's own: the institution and role come from the login."""
        offset, limit = call.page()
        return call.run(offset=offset, limit=limit)

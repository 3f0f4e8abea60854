"""Notify's application: a message made once per event and audience (stored
with the event's tracking record, in one transaction), and the queries the
inbox and the progress page ask (7.4.3, 7.4.6, 8.3.5, 9.2.1, 9.4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import and_, func, select

from services.notify.domain import Message, moment
from services.notify.policy import drafts, prepare
from services.notify.projections import M, MessagesView, due, messages
from shared import calendar
from shared.application import ServiceApplication
from shared.envelope import Envelope
from shared.errors import NotFound
from shared.metrics import counter
from shared.projection import ProjectionRunner

QUEUED = counter(
    "notify",
    "messages_queued",
    "Messages made from integration events, by kind.",
    ("kind",),
)
# which roles read which audiences' messages in their institution's inbox
INBOXES = {
    "partner": ("partner",),
    "staff": ("staff",),
    "manager": ("manager", "staff"),
}
SURVEYS = ("survey_invitation", "survey_reminder")


def utcnow() -> datetime:
    """The platform's one clock (``shared.calendar.CLOCK``), in UTC."""
    return calendar.CLOCK().astimezone(UTC)


class NotifyApplication(ServiceApplication):
    name = "notify"

    def __init__(self, url=None, env=None, clock: Callable[[], datetime] = utcnow):
        super().__init__(url, env)
        self.clock = clock
        self.view = ProjectionRunner(self, MessagesView())

    # -- from integration events ------------------------------------------------

    def on_event(self, envelope: Envelope, directory) -> bool:
        """Make the event's messages, once; False if it was processed before."""
        kinds: list[str] = []

        def policy(event: Envelope) -> list[Message]:
            kinds.clear()
            made = []
            for draft in drafts(event, directory.front_door):
                message = prepare(event, draft, directory, self.clock())
                if message is not None:
                    made.append(message)
                    kinds.append(message.kind)
            return made

        done = self.process(envelope, policy)
        for kind in kinds if done else ():
            QUEUED.labels(kind=kind).inc()
        return done

    # -- the sender's work list and ops -----------------------------------------

    def due_ids(self, limit: int = 100) -> list[str]:
        self.view.catch_up()
        return [
            r["message_id"] for r in self.kernel.query(due(moment(self.clock()), limit))
        ]

    def load(self, message_id) -> Message:
        return self.get_existing(message_id, Message, "message")

    def release(self, message_id) -> dict:
        """Ops: a parked delivery is tried again."""

        def run():
            message = self.load(message_id)
            message.release(self.clock())
            self.save(message)
            return message.as_dict()

        return self.retry_on_conflict(run)

    def undelivered(self) -> list[dict]:
        return self._list(M.status == "parked")

    # -- queries ----------------------------------------------------------------

    def message(self, message_id) -> dict:
        message = self.load(message_id)
        history = []
        for stored in self.recorder.select_events(message.id):
            event = self.mapper.to_domain_event(stored)
            state = event.__dict__
            history.append(
                {
                    "event": type(event).__name__,
                    "at": event.timestamp.isoformat(),
                    "channel": state.get("channel", ""),
                    "error": state.get("error", ""),
                    "after_unknown": bool(state.get("after_unknown", False)),
                }
            )
        return {**message.as_dict(), "history": history}

    def delivered_at(self, message_ids: list) -> dict[str, str]:
        """{message id: when it first reached its person}, for those of
        ``message_ids`` that did (evaluation's survey window, 9.2.1)."""
        found = {}
        for given in list(message_ids)[:1000]:
            try:
                message = self.load(UUID(str(given)))
            except (NotFound, ValueError):
                continue
            if message.delivered_at:
                found[str(given)] = message.delivered_at
        return found

    def inbox(self, actor: dict, offset: int = 0, limit: int = 50) -> dict:
        """The messages of the actor's institution and role, newest first."""
        actor = actor or {}
        audiences = INBOXES.get(actor.get("role", ""))
        institution = actor.get("institution", "")
        if not audiences or not institution:
            return {"total": 0, "offset": offset, "limit": limit, "items": []}
        where = and_(M.audience.in_(audiences), M.institution == institution)
        self.view.catch_up()
        total = self.kernel.scalar(
            select(func.count()).select_from(messages).where(where)
        )
        return {
            "total": int(total or 0),
            "offset": offset,
            "limit": limit,
            "items": self._list(where, offset, limit),
        }

    def for_demand(self, demand_id: str, audience: str | None = None) -> list[dict]:
        where = M.demand_id == str(demand_id)
        if audience:
            where = and_(where, M.audience == audience)
        return self._list(where)

    def for_complaint(self, number: str) -> list[dict]:
        return self._list(
            and_(M.audience == "complainant", M.complaint_number == number)
        )

    def _list(self, where, offset: int = 0, limit: int = 200) -> list[dict]:
        self.view.catch_up()
        rows = self.kernel.query(
            select(M.message_id)
            .where(where)
            .order_by(M.queued_at.desc(), M.message_id)
            .limit(int(limit))
            .offset(int(offset))
        )
        return [self.load(UUID(r["message_id"])).as_dict() for r in rows]

"""Notify's read model: which messages there are, for whom, and which
deliveries are due (the sender's work list), fed by its own events.

It keeps no text and no address: the inbox and the progress page read a
message's words from its (encrypted) events, so the tables say only who a
message is for and where its deliveries stand (7.3.3).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, Table, Text, func, select

from services.notify.domain import Message
from shared.projection import Projection, Writes

METADATA = MetaData()

messages = Table(
    "notify_messages",
    METADATA,
    Column("message_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("audience", Text, nullable=False),
    Column("institution", Text, nullable=False),
    Column("demand_id", Text, nullable=False),
    Column("complaint_number", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("queued_at", Text, nullable=False),
    Index("notify_messages_by_recipient", "audience", "institution", "queued_at"),
    Index("notify_messages_by_demand", "demand_id", "queued_at"),
    Index("notify_messages_by_status", "status", "queued_at"),
)

deliveries = Table(
    "notify_deliveries",
    METADATA,
    Column("message_id", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("status", Text, nullable=False),
    # when it is next due (UTC ISO text); "" once sent or parked
    Column("next_at", Text, nullable=False),
    Index("notify_deliveries_due", "status", "next_at"),
)

M = messages.c
D = deliveries.c


class MessagesView(Projection):
    name = "notify_messages"
    version = 1
    tables = (messages, deliveries)

    def apply(self, event, writes: Writes) -> None:
        if not isinstance(event, Message.Event):
            return
        message_id = str(event.originator_id)
        name = type(event).__name__
        if name == "Queued":
            writes.insert(messages, _queued(message_id, event))
        elif name == "Routed":
            status = "sending" if event.recipients else "inbox"
            self._message(writes, message_id, status)
            for channel in event.recipients:
                writes.insert(
                    deliveries,
                    {
                        "message_id": message_id,
                        "channel": channel,
                        "status": "pending",
                        "next_at": event.at,
                    },
                )
        elif name == "AttemptStarted":
            self._delivery(
                writes, message_id, event.channel, "attempting", event.lease_until
            )
        elif name == "AttemptFailed":
            self._delivery(writes, message_id, event.channel, "failed", event.retry_at)
        elif name == "Sent":
            self._delivery(writes, message_id, event.channel, "sent", "")
            self._sent_if_all(writes, message_id)
        elif name == "Parked":
            self._delivery(writes, message_id, event.channel, "parked", "")
            self._message(writes, message_id, "parked")
        elif name == "Released":
            for channel in event.channels:
                self._delivery(writes, message_id, channel, "pending", event.at)
            self._message(writes, message_id, "sending")

    def preload(self, events, writes: Writes) -> None:
        """The deliveries of the messages a batch's events send a delivery
        of: whether all of a message's are sent is then known without a read."""
        writes.load(
            deliveries,
            "message_id",
            {
                str(event.originator_id)
                for event in events
                if isinstance(event, Message.Event) and type(event).__name__ == "Sent"
            },
        )

    @staticmethod
    def _message(writes: Writes, message_id: str, status: str) -> None:
        writes.update(messages, {"message_id": message_id}, {"status": status})

    @staticmethod
    def _delivery(writes, message_id, channel, status, next_at) -> None:
        writes.update(
            deliveries,
            {"message_id": message_id, "channel": channel},
            {"status": status, "next_at": next_at},
        )

    @staticmethod
    def _sent_if_all(writes: Writes, message_id: str) -> None:
        found = writes.rows(deliveries, {"message_id": message_id})
        if all(row["status"] == "sent" for row in found):
            writes.update(messages, {"message_id": message_id}, {"status": "sent"})


def _queued(message_id: str, event) -> dict:
    return {
        "message_id": message_id,
        "kind": event.kind,
        "audience": event.audience,
        "institution": event.institution,
        "demand_id": event.demand_id,
        "complaint_number": event.complaint_number,
        "status": "queued",
        "queued_at": event.queued_at,
    }


def due(now: str, limit: int):
    """The ids of messages with work to do at ``now``: not yet routed, or a
    delivery whose time has come (oldest first)."""
    routing = select(M.message_id, M.queued_at.label("at")).where(M.status == "queued")
    waiting = select(D.message_id, D.next_at.label("at")).where(
        D.status.in_(("pending", "failed", "attempting")), D.next_at <= now
    )
    both = routing.union_all(waiting).subquery()
    return (
        select(both.c.message_id)
        .group_by(both.c.message_id)
        .order_by(func.min(both.c.at))
        .limit(limit)
    )

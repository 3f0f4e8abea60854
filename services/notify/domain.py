"""A message to one audience, and its deliveries by each channel.

A message is made once per (event, kind, audience): its id follows from them
(``contract.message_id``), so a redelivered event finds it made and makes no
other. Its text is rendered when it is queued and kept (the inbox and the
progress page show it as sent); whom it goes to is read when it is sent.

Each delivery is claimed before it is sent: ``AttemptStarted`` is stored
first, at the message's next version, so two senders at once meet on the
version and only one of them sends (at most once per id). Its outcome is
stored after. A failure is tried again after a pause that doubles each time,
and parked after ``Backoff.attempts`` tries, until ops release it. An attempt
whose outcome was never stored — the sender died while sending — is found
when its lease runs out and is tried again, flagged ``after_unknown``: the
one case a copy may reach the recipient twice, with the same Message-ID
(e-mail) or request id (SMS) so the receiving side can tell (9.4: every step
of the loop is on record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eventsourcing.domain import event

from services.notify.contract import (
    DELIVERY_LABELS,
    KINDS,
    STATUS_LABELS,
    message_id,
)
from shared.application import AuditedAggregate
from shared.errors import ValidationFailed

FINAL = ("sent", "parked")


def moment(at: datetime) -> str:
    """UTC ISO text with microseconds: the read model orders by it as text."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Backoff:
    """How often and how long a failed delivery is tried again."""

    first_seconds: float = 30.0
    attempts: int = 8
    longest_seconds: float = 3600.0
    # an attempt not finished within this was interrupted (see module doc)
    lease_seconds: float = 120.0

    def delay(self, attempts_made: int) -> timedelta:
        seconds = self.first_seconds * 2 ** max(0, attempts_made - 1)
        return timedelta(seconds=min(seconds, self.longest_seconds))


class Message(AuditedAggregate):
    @staticmethod
    def create_id(cause: str, kind: str, audience: str):
        return message_id(cause, kind, audience)

    @event("Queued")
    def __init__(
        self,
        cause: str,
        kind: str,
        audience: str,
        institution: str,
        demand_id: str,
        complaint_id: str,
        complaint_number: str,
        subject: str,
        text: str,
        html: str,
        link: str,
        queued_at: str,
    ):
        self.cause = cause
        self.kind = kind
        self.audience = audience
        self.institution = institution
        self.demand_id = demand_id
        self.complaint_id = complaint_id
        self.complaint_number = complaint_number
        self.subject = subject
        self.text = text
        self.html = html
        self.link = link
        self.queued_at = queued_at
        self.status = "queued"
        self.deliveries: dict[str, dict] = {}

    @classmethod
    def queue(cls, cause: str, draft: dict, rendered, now: datetime) -> Message:
        """``draft``: kind, audience, institution, demand_id, complaint_id,
        complaint_number and link (the page it points to, for an SMS);
        ``rendered``: subject, text and html from its template."""
        if draft["kind"] not in KINDS:
            raise ValidationFailed.single("kind", f"未知的消息类别：{draft['kind']}")
        return cls(
            cause=cause,
            kind=draft["kind"],
            audience=draft["audience"],
            institution=draft.get("institution", ""),
            demand_id=draft.get("demand_id", ""),
            complaint_id=draft.get("complaint_id", ""),
            complaint_number=draft.get("complaint_number", ""),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            link=draft.get("link", ""),
            queued_at=moment(now),
        )

    # -- routing: by which channels, to whom (masked) -------------------------

    def route(self, recipients: dict[str, str], now: datetime) -> None:
        """The channels it goes by and to whom (masked), decided when it is
        first sent; none: it stays in the inbox only."""
        if self.status != "queued":
            raise ValidationFailed.single("status", "该消息已确定发送渠道")
        self._routed(dict(recipients), moment(now))

    @event("Routed")
    def _routed(self, recipients: dict, at: str) -> None:
        self.deliveries = {
            channel: {
                "status": "pending",
                "to": to,
                "attempts": 0,
                "next_at": at,
                "error": "",
            }
            for channel, to in recipients.items()
        }
        self.status = "sending" if recipients else "inbox"

    def due(self, now: datetime) -> list[str]:
        """The channels to try now: waiting ones whose time has come, and an
        attempt whose lease ran out (its sender died)."""
        at = moment(now)
        return [
            channel
            for channel, d in self.deliveries.items()
            if d["status"] not in FINAL and d["next_at"] <= at
        ]

    # -- one attempt ----------------------------------------------------------

    def start(self, channel: str, now: datetime, backoff: Backoff) -> bool:
        """Claim a delivery before sending it; True if the attempt before it
        never finished (the copy may have gone: see the module doc)."""
        delivery = self.deliveries[channel]
        if channel not in self.due(now):
            raise ValidationFailed.single("status", "该渠道现在不需发送")
        unknown = delivery["status"] == "attempting"
        lease = now + timedelta(seconds=backoff.lease_seconds)
        self._started(
            channel, delivery["attempts"] + 1, moment(now), moment(lease), unknown
        )
        return unknown

    @event("AttemptStarted")
    def _started(self, channel, attempt, at, lease_until, after_unknown) -> None:
        self.deliveries[channel].update(
            status="attempting", attempts=attempt, next_at=lease_until
        )

    def sent(self, channel: str, now: datetime, reference: str = "") -> None:
        self._require_attempting(channel)
        self._sent(channel, moment(now), reference[:200])

    @event("Sent")
    def _sent(self, channel: str, at: str, reference: str) -> None:
        self.deliveries[channel].update(status="sent", next_at="", error="", sent_at=at)
        if all(d["status"] == "sent" for d in self.deliveries.values()):
            self.status = "sent"

    def failed(self, channel: str, error: str, now: datetime, backoff: Backoff) -> bool:
        """Record a failure: tried again later, or parked (True) after the
        last attempt allowed."""
        attempts = self._require_attempting(channel)["attempts"]
        error = error[:500]
        if attempts >= backoff.attempts:
            self._parked(channel, error, moment(now))
            return True
        retry_at = moment(now + backoff.delay(attempts))
        self._failed(channel, attempts, error, retry_at)
        return False

    @event("AttemptFailed")
    def _failed(self, channel, attempt, error, retry_at) -> None:
        self.deliveries[channel].update(status="failed", next_at=retry_at, error=error)

    @event("Parked")
    def _parked(self, channel: str, error: str, at: str) -> None:
        self.deliveries[channel].update(status="parked", next_at="", error=error)
        self.status = "parked"

    def _require_attempting(self, channel: str) -> dict:
        delivery = self.deliveries.get(channel)
        if delivery is None or delivery["status"] != "attempting":
            raise ValidationFailed.single("status", "该渠道没有进行中的发送")
        return delivery

    # -- ops -----------------------------------------------------------------

    def release(self, now: datetime) -> list[str]:
        """Parked deliveries are tried again, from a fresh count."""
        parked = [c for c, d in self.deliveries.items() if d["status"] == "parked"]
        if not parked:
            raise ValidationFailed.single("status", "该消息没有待处理的发送失败")
        self._released(parked, moment(now))
        return parked

    @event("Released")
    def _released(self, channels: list, at: str) -> None:
        for channel in channels:
            self.deliveries[channel].update(status="pending", attempts=0, next_at=at)
        self.status = "sending"

    @property
    def delivered_at(self) -> str:
        """When it first reached the person by e-mail or SMS ("" if not yet):
        the inbox is no delivery to someone outside the platform."""
        sent = [d.get("sent_at", "") for d in self.deliveries.values()]
        return min((at for at in sent if at), default="")

    def as_dict(self) -> dict:
        """The message as the inbox and the progress page show it."""
        return {
            "id": str(self.id),
            "kind": self.kind,
            "kind_label": KINDS[self.kind],
            "audience": self.audience,
            "institution": self.institution,
            "demand_id": self.demand_id,
            "complaint_number": self.complaint_number,
            "subject": self.subject,
            "text": self.text,
            "link": self.link,
            "created_at": self.queued_at,
            "status": self.status,
            "status_label": STATUS_LABELS[self.status],
            "deliveries": {
                channel: {
                    "status": d["status"],
                    "status_label": DELIVERY_LABELS[d["status"]],
                    "to": d["to"],
                    "attempts": d["attempts"],
                }
                for channel, d in self.deliveries.items()
            },
        }

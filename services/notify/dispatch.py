"""The sender: delivers the messages that are due, each at most once per id.

Each round reads the due messages from the read model; for each it reads its
recipient's addresses now (send time, 7.3.3), fixes its channels the first
time (e-mail when QI_SMTP_URL is set and there is an address, SMS when
QI_SMS_PROVIDER is set and there is a mobile number; none: the inbox only),
then for each due delivery: claims it (``AttemptStarted``, stored before
anything is sent), sends it, stores the outcome. Several instances may run
rounds at once: a claim stored by one makes the other's fail on the version,
and that one moves on. A failure is tried again with a growing pause and
parked after the last attempt (``qi_notify_parked_deliveries``, alert
QiNotifyUndelivered); ``release`` tries it again.

What is guaranteed at the boundary: a delivery stored as sent is never sent
again (redelivered events, restarts, other instances). A copy can reach the
recipient twice only if the sending broke off after the whole message was
handed over and before the answer came (``SendFailed.unknown``), or the
sender died in that moment and its lease ran out; it is then tried again with
the same Message-ID (e-mail) or OutId (SMS), counted in
``qi_notify_delivery_failures_total{certainty="unknown"}`` and
``qi_notify_deliveries_retried_after_unknown_total``. SMTP itself has no
idempotent submission: telling the two copies apart is the receiver's part.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from eventsourcing.persistence import IntegrityError, OperationalError
from sqlalchemy import func, select

from services.notify.addresses import Directory, addresses, masked
from services.notify.domain import Backoff, Message
from services.notify.mail import MailSender, SendFailed
from services.notify.projections import D, deliveries
from services.notify.sms import AliyunSms
from shared import audit, config
from shared.application import is_conflict
from shared.audit import Actor, AuditContext
from shared.errors import DependencyUnavailable
from shared.metrics import counter, gauge, histogram

log = logging.getLogger(__name__)

SENT = counter("notify", "deliveries_sent", "Messages sent, by channel.", ("channel",))
FAILURES = counter(
    "notify",
    "delivery_failures",
    "Delivery attempts that failed, by channel and certainty: refused (not "
    "sent) or unknown (broke off after handing it over; it may have arrived).",
    ("channel", "certainty"),
)
PARKED = counter(
    "notify",
    "deliveries_parked",
    "Deliveries parked after their last attempt, by channel.",
    ("channel",),
)
AFTER_UNKNOWN = counter(
    "notify",
    "deliveries_retried_after_unknown",
    "Attempts made after one whose outcome was never stored (sender died).",
    ("channel",),
)
PARKED_NOW = gauge(
    "notify",
    "parked_deliveries",
    "Deliveries parked and not released, as of the sender's last round.",
    ("channel",),
)
WAITING = gauge(
    "notify",
    "waiting_deliveries",
    "Deliveries not yet sent (pending, failed or being sent), last round.",
    ("channel",),
)
SEND_SECONDS = histogram(
    "notify",
    "send",
    "Handing one message to the SMTP server or SMS provider.",
    ("channel",),
)
SENDER = Actor(id="service:notify", role="system")


def backoff_from_config() -> Backoff:
    return Backoff(
        first_seconds=config.get_float("QI_NOTIFY_RETRY_SECONDS"),
        attempts=config.get_int("QI_NOTIFY_ATTEMPTS"),
    )


def senders_from_config() -> dict:
    found = {}
    for sender in (MailSender.from_config(), AliyunSms.from_config()):
        if sender is not None:
            found[sender.channel] = sender
    return found


class Dispatcher:
    def __init__(
        self,
        app,
        senders: dict,
        directory: Directory,
        backoff: Backoff | None = None,
        addresses_of: Callable = addresses,
    ):
        self.app = app
        self.senders = senders
        self.directory = directory
        self.backoff = backoff or backoff_from_config()
        self.addresses_of = addresses_of

    def round(self, limit: int = 100) -> int:
        """One pass over what is due; returns how many messages it looked at."""
        ids = self.app.due_ids(limit)
        for message_id in ids:
            try:
                self.dispatch(message_id)
            except DependencyUnavailable as exc:
                # a service with the addresses did not answer: the rest wait
                # for the next round rather than each for its own timeout
                log.warning("notify: %s; sending again next round", exc)
                break
        self.count()
        return len(ids)

    def dispatch(self, message_id: str) -> None:
        message = self.app.load(message_id)
        context = AuditContext(
            actor=SENDER,
            correlation_id=message.demand_id or str(message.id),
            causation_id=message.cause,
        )
        with audit.audit_scope(context):
            to = self.addresses_of(message, self.directory)
            now = self.app.clock()
            if message.status == "queued":
                message.route(
                    {
                        channel: masked(channel, address)
                        for channel, address in to.items()
                        if channel in self.senders and address
                    },
                    now,
                )
                if not self._save(message):
                    return
            for channel in message.due(now):
                if not self._deliver(message, channel, to.get(channel, "")):
                    return

    def _deliver(self, message: Message, channel: str, address: str) -> bool:
        """One attempt; False when another sender claimed it first."""
        unknown = message.start(channel, self.app.clock(), self.backoff)
        if not self._save(message):
            return False
        if unknown:
            AFTER_UNKNOWN.labels(channel=channel).inc()
        sender = self.senders.get(channel)
        try:
            if sender is None or not address:
                raise SendFailed(f"{channel}: no sender or no address now")
            with SEND_SECONDS.labels(channel=channel).time():
                reference = sender.send(message, address)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded
            if not isinstance(exc, SendFailed):
                exc = SendFailed(f"{type(exc).__name__}: {exc}", True)
            certainty = "unknown" if exc.unknown else "refused"
            FAILURES.labels(channel=channel, certainty=certainty).inc()
            if message.failed(channel, str(exc), self.app.clock(), self.backoff):
                PARKED.labels(channel=channel).inc()
                log.error("notify: %s of %s parked: %s", channel, message.id, exc)
            else:
                log.warning("notify: %s of %s failed: %s", channel, message.id, exc)
        else:
            message.sent(channel, self.app.clock(), reference)
            SENT.labels(channel=channel).inc()
        # if this save is lost, the lease brings the attempt back (unknown)
        return self._save(message)

    def _save(self, message: Message) -> bool:
        try:
            self.app.save(message)
            return True
        except (IntegrityError, OperationalError) as exc:
            if not is_conflict(exc):
                raise
            return False

    def count(self) -> None:
        rows = self.app.kernel.query(
            select(D.channel, D.status, func.count().label("n"))
            .select_from(deliveries)
            .group_by(D.channel, D.status)
        )
        parked: dict[str, int] = {}
        waiting: dict[str, int] = {}
        for row in rows:
            channel, n = row["channel"], int(row["n"])
            parked.setdefault(channel, 0)
            waiting.setdefault(channel, 0)
            if row["status"] == "parked":
                parked[channel] += n
            elif row["status"] != "sent":
                waiting[channel] += n
        for channel, n in parked.items():
            PARKED_NOW.labels(channel=channel).set(n)
        for channel, n in waiting.items():
            WAITING.labels(channel=channel).set(n)

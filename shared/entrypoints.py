"""``@integration_handler``: a nameko event handler that never loses a message.

It decodes the envelope, runs the handler (which returns False for a duplicate,
see ``ServiceApplication.process``) and, if the handler raises or the message
is malformed, parks the message before acknowledging it (delivery contract 3).
A message of a newer schema version than the handler knows is parked too: a
consumer does not guess at a contract it has not learnt; once it has, the
message is replayed.
A service the handler needed not answering, or its database not reachable (a
PostgreSQL restart), is no fault of the message: it goes back to the queue
after a pause.

Before anything is applied, the envelope's signature is checked
(``shared/signing.py``): a message that is unsigned, not signed by its
source's key, not from the service whose exchange it came through, or of
another type than its routing key is parked with that reason, counted in
``qi_<service>_messages_rejected_total{source, reason}`` (alert
QiMessagesRejected) and changes nothing. Anybody with the broker's
credentials can publish; only the source's key makes a message its source's.
A rejected message is parked under an id of its own (``rejected-`` and a hash
of its body), never under the event id it claims, so a forgery cannot stand
in for the genuine event's parked record.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
from datetime import UTC, datetime

import eventlet
import eventsourcing.persistence
import psycopg
from nameko.events import SERVICE_POOL, EventHandler

from shared import metrics as kernel_metrics
from shared import signing, topology
from shared.envelope import Envelope, EnvelopeError
from shared.errors import DependencyUnavailable
from shared.metrics import for_service
from shared.parking import REPLAY_HEADER, ParkingLot
from shared.providers import application_of

log = logging.getLogger(__name__)

RETRY_PAUSE_SECONDS = 1.0

# failures that say nothing about the message: a service that did not answer,
# a database connection lost or refused (psycopg's, or eventsourcing's
# wrapping of it; SQLite's "database is locked")
TRANSIENT = (
    DependencyUnavailable,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
)


# a prepared statement the connection's cache names but its session no
# longer has: the connection's state, not the message's
_STALE_STATEMENT = psycopg.errors.InvalidSqlStatementName


def is_transient(exc: BaseException) -> bool:
    """A failure that says nothing about the message: one of ``TRANSIENT``,
    or a stale prepared statement (``_STALE_STATEMENT``), however wrapped.
    The next attempt prepares anew: the kernel store's failed transaction
    rolls back, which empties psycopg's cache, and eventsourcing's pool is
    renewed (``shared.persistence.renew_on_stale_statements``). ``make
    faults``' hung broker parked a DemandRegistered with it once."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (*TRANSIENT, _STALE_STATEMENT)):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def rejected_counter(service: str):
    """``qi_<service>_messages_rejected_total{source, reason}``: messages a
    consumer refused at its trust boundary. ``source`` is the exchange's
    service, never the one a message claims, and ``reason`` one of
    ``signing.REASONS``, so a forger cannot mint label values."""
    return kernel_metrics.counter(
        service,
        "messages_rejected",
        "Messages refused before anything was applied: unsigned, not signed "
        "by their source's key, from another source than their exchange's, "
        "or of another type than their routing key (parked).",
        ("source", "reason"),
    )


def _body_id(prefix: str, body) -> str:
    raw = json.dumps(body, sort_keys=True, default=str)
    return f"{prefix}-" + hashlib.sha256(raw.encode()).hexdigest()[:16]


class IntegrationEventHandler(EventHandler):
    def __init__(
        self, source_service: str, event_type: str, schema_version: int = 1, **kwargs
    ):
        # the newest version of the event's schema this handler understands
        self.schema_version = schema_version
        super().__init__(
            source_service,
            event_type,
            handler_type=SERVICE_POOL,
            reliable_delivery=True,
            requeue_on_error=False,
            **kwargs,
        )

    @property
    def subscription(self) -> topology.Subscription:
        return topology.Subscription(
            self.source_service,
            self.event_type,
            self.container.service_name,
            self.method_name,
        )

    @property
    def consumer_name(self) -> str:
        return f"{self.container.service_name}.{self.method_name}"

    def _parking(self) -> ParkingLot:
        return ParkingLot(application_of(self.container).kernel)

    def setup(self):
        super().setup()
        # public keys read from configuration as the first message of a
        # source arrives; the counter's series exist from the start, at 0,
        # so an alert on their increase sees the first rejection
        self.verifier = signing.Verifier()
        counter = rejected_counter(self.container.service_name)
        for reason in signing.REASONS:
            counter.labels(source=self.source_service, reason=reason)

    def handle_message(self, body, message):
        try:
            envelope = Envelope.from_dict(body)
        except EnvelopeError as exc:
            self._park_and_ack(message, body, None, f"EnvelopeError: {exc}")
            return
        try:
            self.verifier.verify(envelope, self.source_service, self.event_type)
        except signing.SigningKeyProblem as exc:
            # this consumer's configuration, not the message: parked, so
            # nothing is lost, and replayed once the keys are right
            self._reject(message, body, envelope, signing.BAD_SIGNATURE, str(exc))
            return
        except signing.Rejected as exc:
            self._reject(message, body, envelope, exc.reason, exc.detail)
            return
        if not 1 <= envelope.schema_version <= self.schema_version:
            error = (
                f"EnvelopeError: schema version {envelope.schema_version} of "
                f"{envelope.type} is not one this consumer knows "
                f"(1 to {self.schema_version})"
            )
            self._park_and_ack(message, body, envelope, error)
            return
        context_data = self.unpack_message_headers(message)
        # a replay of a message rejected before (its keys since put right)
        # resolves that record too, parked under its body's id
        rejected_id = (
            _body_id("rejected", body)
            if REPLAY_HEADER in (message.headers or {})
            else ""
        )
        delivered = time.perf_counter()
        try:
            self.container.spawn_worker(
                self,
                (envelope,),
                {},
                context_data=context_data,
                handle_result=lambda worker_ctx, result=None, exc_info=None: (
                    self._finish(
                        message, envelope, result, exc_info, delivered, rejected_id
                    )
                ),
            )
        except Exception:  # noqa: BLE001 - container being killed: requeue it
            self.queue_consumer.requeue_message(message)

    def handle_undecodable(self, message, exc: Exception) -> None:
        """A body that is not JSON at all: parked as text (nameko_fixes)."""
        raw = message.body
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        self._park_and_ack(message, str(raw), None, f"DecodeError: {exc}")

    def _reject(self, message, body, envelope: Envelope, reason: str, detail: str):
        """Park a message that did not pass the signature check, with its
        reason; labels and id come from this handler, not from the message."""
        service = self.container.service_name
        rejected_counter(service).labels(
            source=self.source_service, reason=reason
        ).inc()
        log.error(
            "refused a message on %s.events (%s): %s",
            self.source_service,
            reason,
            detail,
        )
        self._park_and_ack(
            message,
            body,
            envelope,
            f"SignatureRejected: {reason}: {detail} "
            f"(claims {envelope.source}.{envelope.type} id {envelope.event_id})",
            event_id=_body_id("rejected", body),
            labels=(self.source_service, self.event_type),
        )

    def _finish(
        self, message, envelope: Envelope, result, exc_info, delivered, rejected_id=""
    ):
        metrics = for_service(self.container.service_name)
        labels = {"source": envelope.source, "event_type": envelope.type}
        metrics.handler_seconds.labels(**labels).observe(
            time.perf_counter() - delivered
        )
        lag = _seconds_since(envelope.occurred_at)
        if lag is not None:
            metrics.event_lag_seconds.labels(source=envelope.source).observe(lag)
        if exc_info is not None and is_transient(exc_info[1]):
            # not the message's fault: back to the queue after a pause, so a
            # stopped dependency (a service, the database) neither parks good
            # messages nor spins hot
            log.warning("%s: %s; requeued", envelope.type, exc_info[1])
            metrics.requeued.labels(**labels).inc()
            eventlet.sleep(RETRY_PAUSE_SECONDS)
            self.queue_consumer.requeue_message(message)
            return result, exc_info
        if exc_info is not None:
            error = "".join(traceback.format_exception_only(*exc_info[:2])).strip()
            self._park_and_ack(message, envelope.to_dict(), envelope, error)
            return result, exc_info
        if result is False:
            metrics.duplicates.labels(**labels).inc()
        else:
            metrics.consumed.labels(**labels).inc()
        if REPLAY_HEADER in (message.headers or {}):
            self._parking().resolve(self.consumer_name, envelope.event_id)
            if rejected_id:
                self._parking().resolve(self.consumer_name, rejected_id)
            metrics.parked_open.set(self._parking().count_open())
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def _park_and_ack(
        self,
        message,
        body,
        envelope: Envelope | None,
        error: str,
        event_id: str = "",
        labels: tuple[str, str] | None = None,
    ):
        if envelope is not None:
            event_id = event_id or envelope.event_id
            source, event_type = envelope.source, envelope.type
            position = envelope.position
        else:
            event_id = event_id or _body_id("malformed", body)
            source, event_type, position = self.source_service, self.event_type, -1
        attempt = 0
        while True:
            try:
                self._parking().park(
                    consumer=self.consumer_name,
                    queue=self.subscription.queue_name,
                    event_id=event_id,
                    source=source,
                    event_type=event_type,
                    position=position,
                    payload=body if isinstance(body, dict) else {"raw": str(body)},
                    error=error,
                )
                break
            except Exception as exc:  # noqa: BLE001 - the database may be down
                attempt += 1
                log.error("cannot park message %s (%s); retrying", event_id, exc)
                if attempt >= 5:
                    # Keep the message in RabbitMQ rather than lose it.
                    eventlet.sleep(1.0)
                    self.queue_consumer.requeue_message(message)
                    return
                eventlet.sleep(0.2 * attempt)
        metrics = for_service(self.container.service_name)
        label_source, label_type = labels or (source, event_type)
        metrics.parked.labels(source=label_source, event_type=label_type).inc()
        metrics.parked_open.set(self._parking().count_open())
        log.error("parked %s from %s: %s", event_type, source, error)
        self.queue_consumer.ack_message(message)


def _seconds_since(occurred_at: str) -> float | None:
    """Propagation lag of an event; None if its time is unreadable or naive."""
    try:
        occurred = datetime.fromisoformat(occurred_at)
    except ValueError:
        return None
    if occurred.tzinfo is None:
        return None
    return max(0.0, (datetime.now(UTC) - occurred).total_seconds())


integration_handler = IntegrationEventHandler.decorator

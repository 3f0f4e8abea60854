"""The outbox relay: the event store's notification log, published to RabbitMQ.

Delivery contract 1: only stored events are published; a crash between storing
and publishing only delays, because the relay resumes from the position it
recorded after the broker confirmed. Exactly one relay per service is active:
the holder of a lock (PostgreSQL advisory lock, or a file lock beside the
SQLite file); the others stand by and take over when the holder dies.

A relay that cannot proceed says so (``OutboxRelay.stuck``, read by the
service's ``ping`` and so by the gateway's /healthz): it is stuck when it has
failed at least ``STUCK_AFTER_ATTEMPTS`` times in a row at the same position
over at least ``STUCK_AFTER_SECONDS``. Both bounds, so a broker restart or a
short database outage (retried with backoff, at most 5 s apart) does not turn
a service unhealthy, while a notification that will never publish (an event
the key cannot decrypt) does within half a minute; the first attempt that
gets past it makes the service healthy again.

Every envelope is signed with the service's key before it is published
(``shared/signing.py``), so consumers can tell it from one anybody with the
broker's credentials could publish. A key that is missing or does not match
the listed public key stops the relay before it publishes anything (its
service's health names the problem), rather than sending events every
consumer would refuse.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Optional

from eventsourcing.persistence import Notification
from sqlalchemy import select

from shared import config, logs, signing, topology
from shared.amqp import ConfirmingPublisher, Unroutable
from shared.application import ServiceApplication
from shared.envelope import Envelope
from shared.metrics import for_service
from shared.relay_lock import AdvisoryLock, relay_lock
from shared.tables import relay_position

log = logging.getLogger(__name__)

ToEnvelope = Callable[[object, Notification], Optional[Envelope]]

STUCK_AFTER_ATTEMPTS = 5
STUCK_AFTER_SECONDS = 30.0


class RelayStuck(Exception):
    """The service's outbox relay cannot proceed: what it stores is not
    published (raised by ``ping``, so a health check fails, naming why)."""


class Stall:
    """Consecutive failures of a relay at one position, and whether they make
    it stuck (see the module's docstring for the bounds and why both)."""

    def __init__(
        self,
        attempts: int = STUCK_AFTER_ATTEMPTS,
        seconds: float = STUCK_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.attempts_bound = attempts
        self.seconds_bound = seconds
        self.clock = clock
        self.position: int | None = None
        self.since = 0.0
        self.attempts = 0
        self.error = ""

    def failed(self, position: int | None, error: BaseException) -> bool:
        """Count a failed attempt from ``position`` (None: not known, as when
        the database cannot be read: the same as before); True when this one
        made the relay stuck."""
        was_stuck = self.problem() is not None
        if self.attempts == 0 or (position is not None and position != self.position):
            self.position, self.since, self.attempts = position, self.clock(), 0
        self.attempts += 1
        self.error = f"{type(error).__name__}: {error}"[:500]
        return not was_stuck and self.problem() is not None

    def proceeded(self) -> None:
        self.attempts = 0

    def problem(self) -> str | None:
        """Why the relay is stuck, or None while it is not (yet)."""
        if self.attempts < self.attempts_bound:
            return None
        seconds = self.clock() - self.since
        if seconds < self.seconds_bound:
            return None
        where = "" if self.position is None else f" past notification {self.position}"
        return (
            f"outbox relay cannot publish{where}: {self.attempts} attempts failed "
            f"over {seconds:.0f}s, last {self.error}"
        )


class OutboxRelay:
    def __init__(
        self,
        app: ServiceApplication,
        to_envelope: ToEnvelope,
        amqp_uri: str | None = None,
        batch_size: int | None = None,
    ):
        self.app = app
        self.service = app.name
        self.to_envelope = to_envelope
        self.publisher = ConfirmingPublisher(amqp_uri or config.amqp_uri(self.service))
        self.batch_size = batch_size or config.get_int("QI_RELAY_BATCH_SIZE")
        self.idle_seconds = config.get_float("QI_RELAY_IDLE_SECONDS")
        self.standby_seconds = config.get_float("QI_RELAY_STANDBY_SECONDS")
        self.save_seconds = config.get_float("QI_RELAY_SAVE_SECONDS")
        self.lock = relay_lock(app.kernel, app.name)
        self.metrics = for_service(self.service)
        self.exchange = topology.event_exchange(self.service).name
        self.subscribed_types = {
            s.event_type for s in topology.subscriptions_of(self.service)
        }
        self._declared = False
        self._stopping = False
        # read when first needed, so a key problem makes the relay stuck
        # (and the service unhealthy, naming it) instead of failing its start
        self._signer: signing.Signer | None = None
        # the recorded position, cached while this relay holds the lock
        self._position: int | None = None
        self._saving = None  # the statement that records the position
        # a position published but not yet recorded (``pump_once(defer_save)``)
        self._unsaved = False
        self._saved_at = float("-inf")
        # read here, not at import, so a test can shorten the bounds
        self.stall = Stall(STUCK_AFTER_ATTEMPTS, STUCK_AFTER_SECONDS)

    def stuck(self) -> str | None:
        """Why this relay cannot proceed, or None (health checks read it)."""
        return self.stall.problem()

    # -- position ----------------------------------------------------------

    def position(self) -> int:
        recorded = self.app.kernel.scalar(
            select(relay_position.c.position).where(
                relay_position.c.service == self.service
            )
        )
        return int(recorded or 0)

    def _save_position(self, position: int) -> None:
        """Record how far the relay got (delivery contract 1). While it holds
        PostgreSQL's advisory lock, on the lock's own session in autocommit:
        one round trip instead of a pooled connection's BEGIN, INSERT and
        COMMIT after every batch (issue 22), and a relay whose lock session
        has died records nothing. Otherwise (SQLite, or a pump run without
        the lock) in a write transaction of the kernel."""
        if self._saving is None:  # built once: it runs after every batch
            saving = self.app.kernel.insert(relay_position)
            self._saving = saving.on_conflict_do_update(
                index_elements=[relay_position.c.service],
                set_={"position": saving.excluded.position},
            )
        params = {"service": self.service, "position": position}
        on_lock = isinstance(self.lock, AdvisoryLock)
        if not (on_lock and self.lock.execute(self._saving, params)):
            self.app.kernel.execute(self._saving, params)

    def lag(self, position: int | None = None) -> int:
        """Notifications stored past ``position`` (default: the recorded one)."""
        newest = self.app.recorder.max_notification_id() or 0
        return max(0, newest - (self.position() if position is None else position))

    # -- publishing --------------------------------------------------------

    def _declare(self) -> None:
        if not self._declared:
            topology.declare_for_source(self.publisher.channel, self.service)
            self._declared = True

    def pump_once(self, defer_save: bool = False) -> int:
        """Publish the next batch; returns how many notifications it covered.

        ``defer_save`` (the running relay's way): the position is recorded at
        most every ``save_seconds`` while batches follow each other, and once
        no event came for ``idle_seconds`` (``save_pending``), instead of
        after every batch: under load a batch is a save or two, so a write
        per batch was as many writes again (issue 22). A crash loses at most that many
        seconds of positions: those events are published again and the
        consumers, which track what they applied, ignore them (delivery
        contract 2)."""
        if self._position is None:
            self._position = self.position()
        notifications = self.app.recorder.select_notifications(
            start=self._position + 1, limit=self.batch_size
        )
        if not notifications:
            self.metrics.relay_lag.set(0)
            return 0
        if self._signer is None:
            self._signer = signing.signer_for(self.service)
        messages = []
        whole_batch = len(notifications)
        for index, notification in enumerate(notifications):
            try:
                event = self.app.mapper.to_domain_event(notification)
                envelope = self.to_envelope(event, notification)
                if envelope is not None:
                    envelope = self._signer.sign(envelope)
            except Exception:
                if index == 0:
                    raise  # stuck here: the relay's health names it
                # publish what comes before a notification that cannot be
                # read, so the relay stops exactly at it
                notifications = notifications[:index]
                break
            if envelope is not None:
                messages.append((envelope.type, envelope.to_dict()))
        with self.metrics.relay_batch_seconds.time():
            if not self.publisher.connected:
                self.publisher.connect()
                self._declared = False
            self._declare()
            if messages:
                self._publish(messages)
        self._position = notifications[-1].id
        self._unsaved = True
        if not defer_save or time.monotonic() - self._saved_at >= self.save_seconds:
            self.save_pending()
        self.metrics.relay_position.set(self._position)
        for routing_key, _ in messages:
            self.metrics.published.labels(event_type=routing_key).inc()
        caught_up = whole_batch < self.batch_size and whole_batch == len(notifications)
        self.metrics.relay_lag.set(0 if caught_up else self.lag(self._position))
        return len(notifications)

    def save_pending(self) -> None:
        """Record the position published last, if it is not recorded yet."""
        if self._unsaved and self._position is not None:
            self._save_position(self._position)
            self._unsaved = False
            self._saved_at = time.monotonic()

    def _publish(self, messages: list[tuple[str, dict]]) -> None:
        """Publish a batch; an event a consumer subscribes to that met no
        queue (the queue vanished since it was declared) fails the batch, so
        the queues are declared again and the batch published again."""
        returned = self.publisher.publish_batch(self.exchange, messages, mandatory=True)
        missing = returned & self.subscribed_types
        if missing:
            self._declared = False
            raise Unroutable(
                f"no queue bound for {', '.join(sorted(missing))}; declaring again"
            )

    # -- the loop ----------------------------------------------------------

    def stop(self) -> None:
        self._stopping = True

    def _take_lock(self) -> bool:
        """Take or keep the lock; a database that cannot be reached (a
        PostgreSQL restart) means standing by, not ending the relay, whose
        end would stop the whole service."""
        try:
            held = self.lock.acquire()
        except Exception as exc:  # noqa: BLE001 - retried after standby
            self.metrics.relay_errors.inc()
            log.warning("relay %s: cannot take its lock: %s", self.service, exc)
            self._failed(exc)
            return False
        if not held:
            self.stall.proceeded()  # standing by: another relay publishes
        return held

    def _wait_for_events(self) -> bool:
        """Until this process's application stores events (True), or for
        ``idle_seconds`` at most: events another process stored (a second
        instance, a tool) are found by that poll; this one's are published as
        soon as they are committed, without polling every few milliseconds,
        and a batch short of ``batch_size`` is not followed by a read that
        finds nothing (issue 22: lag, and the reads' CPU)."""
        woken = self.app.stored.wait(self.idle_seconds)
        self.app.stored.clear()  # before the pump: a later save wakes the next wait
        return woken

    def _failed(self, exc: BaseException) -> None:
        if self.stall.failed(self._position, exc):
            log.error("relay %s: %s", self.service, self.stuck())

    def run(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Run until ``stop()``: stand by for the lock, then publish."""
        logs.current_service.set(self.service)
        backoff = 0.1
        while not self._stopping:
            if not self._take_lock():
                self.metrics.relay_active.set(0)
                self._position = None  # another relay moves it meanwhile
                sleep(self.standby_seconds)
                continue
            self.metrics.relay_active.set(1)
            try:
                published = self.pump_once(defer_save=True)
                backoff = 0.1
                self.stall.proceeded()
                if published < self.batch_size:  # caught up as of its read
                    if not self._wait_for_events():
                        self.save_pending()  # nothing came: idle
                    if not self.lock.still_held():
                        self.metrics.relay_active.set(0)
                        self._position = None
                        self._unsaved = False
            except Exception as exc:  # noqa: BLE001 - keep relaying after faults
                self.metrics.relay_errors.inc()
                log.warning(
                    "relay %s: %s; retrying in %.1fs", self.service, exc, backoff
                )
                self._failed(exc)
                self.publisher.close()
                self._position = None  # re-read: the failed save may have landed
                self._unsaved = False  # published again from the recorded one
                sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        try:
            self.save_pending()  # a stopping relay leaves nothing to publish again
        except Exception as exc:  # noqa: BLE001 - the next relay re-publishes
            log.warning("relay %s: position not kept at stop: %s", self.service, exc)
        self.publisher.close()
        self.lock.release()
        self.metrics.relay_active.set(0)

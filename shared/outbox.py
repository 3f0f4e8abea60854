"""The outbox relay: the event store's notification log, published to RabbitMQ.

Delivery contract 1: only stored events are published; a crash between storing
and publishing only delays, because the relay resumes from the position it
recorded after the broker confirmed. Exactly one relay per service is active:
the holder of a lock (PostgreSQL advisory lock, or a file lock beside the
SQLite file); the others stand by and take over when the holder dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Callable
from typing import Optional

from eventsourcing.persistence import Notification

from shared import config, logs, topology
from shared.amqp import ConfirmingPublisher, Unroutable
from shared.application import ServiceApplication
from shared.envelope import Envelope
from shared.metrics import for_service
from shared.persistence import postgres_connect

log = logging.getLogger(__name__)

ToEnvelope = Callable[[object, Notification], Optional[Envelope]]


class FileLock:
    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class AdvisoryLock:
    """A session-level PostgreSQL advisory lock on a connection of its own."""

    def __init__(self, db, name: str):
        self.db = db
        digest = hashlib.sha256(name.encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self._conn = None

    def acquire(self) -> bool:
        if self._conn is not None and self.still_held():
            return True
        self.release()
        conn = postgres_connect(self.db, autocommit=True)
        (got,) = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - a dead session has lost the lock
            self.release()
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
            self._conn = None


def relay_lock(app: ServiceApplication):
    db = app.kernel.db
    if db.kind == "sqlite":
        return FileLock(db.path + ".relay.lock")
    return AdvisoryLock(db, f"qi-relay:{db.dbname}:{db.schema}:{app.name}")


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
        self.publisher = ConfirmingPublisher(amqp_uri or config.get("QI_AMQP_URI"))
        self.batch_size = batch_size or config.get_int("QI_RELAY_BATCH_SIZE")
        self.idle_seconds = config.get_float("QI_RELAY_IDLE_SECONDS")
        self.standby_seconds = config.get_float("QI_RELAY_STANDBY_SECONDS")
        self.lock = relay_lock(app)
        self.metrics = for_service(self.service)
        self.exchange = topology.event_exchange(self.service).name
        self.subscribed_types = {
            s.event_type for s in topology.subscriptions_of(self.service)
        }
        self._declared = False
        self._stopping = False
        # the recorded position, cached while this relay holds the lock
        self._position: int | None = None

    # -- position ----------------------------------------------------------

    def position(self) -> int:
        rows = self.app.kernel.query(
            "SELECT position FROM qi_relay_position WHERE service=%s", (self.service,)
        )
        return int(rows[0]["position"]) if rows else 0

    def _save_position(self, position: int) -> None:
        self.app.kernel.execute(
            "INSERT INTO qi_relay_position (service, position) VALUES (%s, %s) "
            "ON CONFLICT (service) DO UPDATE SET position = excluded.position",
            (self.service, position),
        )

    def lag(self) -> int:
        newest = self.app.recorder.max_notification_id() or 0
        return max(0, newest - self.position())

    # -- publishing --------------------------------------------------------

    def _declare(self) -> None:
        if not self._declared:
            topology.declare_for_source(self.publisher.channel, self.service)
            self._declared = True

    def pump_once(self) -> int:
        """Publish the next batch; returns how many notifications it covered."""
        if self._position is None:
            self._position = self.position()
        notifications = self.app.recorder.select_notifications(
            start=self._position + 1, limit=self.batch_size
        )
        if not notifications:
            self.metrics.relay_lag.set(0)
            return 0
        messages = []
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            envelope = self.to_envelope(event, notification)
            if envelope is not None:
                messages.append((envelope.type, envelope.to_dict()))
        with self.metrics.relay_batch_seconds.time():
            if not self.publisher.connected:
                self.publisher.connect()
                self._declared = False
            self._declare()
            if messages:
                self._publish(messages)
        self._save_position(notifications[-1].id)
        self._position = notifications[-1].id
        self.metrics.relay_position.set(self._position)
        for routing_key, _ in messages:
            self.metrics.published.labels(event_type=routing_key).inc()
        caught_up = len(notifications) < self.batch_size
        self.metrics.relay_lag.set(0 if caught_up else self.lag())
        return len(notifications)

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
            return self.lock.acquire()
        except Exception as exc:  # noqa: BLE001 - retried after standby
            self.metrics.relay_errors.inc()
            log.warning("relay %s: cannot take its lock: %s", self.service, exc)
            return False

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
                published = self.pump_once()
                backoff = 0.1
                if not published:
                    sleep(self.idle_seconds)
                    if not self.lock.still_held():
                        self.metrics.relay_active.set(0)
                        self._position = None
            except Exception as exc:  # noqa: BLE001 - keep relaying after faults
                self.metrics.relay_errors.inc()
                log.warning(
                    "relay %s: %s; retrying in %.1fs", self.service, exc, backoff
                )
                self.publisher.close()
                self._position = None  # re-read: the failed save may have landed
                sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        self.publisher.close()
        self.lock.release()
        self.metrics.relay_active.set(0)

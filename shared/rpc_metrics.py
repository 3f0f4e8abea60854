"""``ServiceMetrics``: RED of a service's entrypoints and its kernel gauges.

A nameko DependencyProvider every service gets through ``Pingable``. Around each
worker it counts RPC calls by method and outcome and times them
(``qi_<service>_rpc_requests_total`` / ``_rpc_seconds``); on an HTTP entrypoint
it does the same by route template (``metrics.observe_http``), so a service
with ``@http`` routes only has to hold one. Event handlers are measured where
their messages are acknowledged (``shared.entrypoints``).

While the container runs it also refreshes, every ``QI_METRICS_REFRESH_SECONDS``,
the levels no single worker sees: parked messages still open, the outbox
relay's position and lag (from the database, so a standby instance reports the
lag of a stalled active one too) and the depth of this service's subscription
queues (consumer lag).
"""

from __future__ import annotations

import logging
import time
import weakref

import eventlet
from kombu import Connection
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from shared import config, topology
from shared.metrics import for_service, observe_http
from shared.parking import ParkingLot
from shared.providers import Application, OutboxRelayRunner

log = logging.getLogger(__name__)


def _outcome(entrypoint, exc_info) -> str:
    if exc_info is None:
        return "ok"
    if isinstance(exc_info[1], entrypoint.expected_exceptions):
        return "refused"
    return "error"


def http_status(entrypoint, result, exc_info) -> int:
    """The status nameko answers with for this worker's result."""
    if exc_info is not None:
        return 400 if isinstance(exc_info[1], entrypoint.expected_exceptions) else 500
    if isinstance(result, Response):
        return result.status_code
    if isinstance(result, tuple) and len(result) in (2, 3):
        return int(result[0])
    return 200


class ServiceMetrics(DependencyProvider):
    def __init__(self, **kwargs):
        self._started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._refresher = None
        self._stopping = False
        super().__init__(**kwargs)

    # -- RED of each worker --------------------------------------------------

    def worker_setup(self, worker_ctx) -> None:
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None) -> None:
        started = self._started.pop(worker_ctx, None)
        if started is None:
            return
        seconds = time.perf_counter() - started
        entrypoint = worker_ctx.entrypoint
        service = self.container.service_name
        if isinstance(entrypoint, Rpc):
            metrics = for_service(service)
            method = entrypoint.method_name
            outcome = _outcome(entrypoint, exc_info)
            metrics.rpc_requests.labels(method=method, outcome=outcome).inc()
            metrics.rpc_seconds.labels(method=method).observe(seconds)
        elif isinstance(entrypoint, HttpRequestHandler):
            status = http_status(entrypoint, result, exc_info)
            observe_http(entrypoint.url, entrypoint.method, status, seconds, service)

    # -- refreshed levels ----------------------------------------------------

    def start(self) -> None:
        interval = config.get_float("QI_METRICS_REFRESH_SECONDS")
        if interval > 0:
            self._stopping = False
            self._refresher = self.container.spawn_managed_thread(
                lambda: self._refresh_every(interval),
                identifier=f"{self.container.service_name}.metrics_refresh",
            )

    def stop(self) -> None:
        self._stopping = True
        if self._refresher is not None:
            self._refresher.kill()
            self._refresher = None

    kill = stop

    def _refresh_every(self, interval: float) -> None:
        while not self._stopping:
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - a scrape must not stop a service
                log.warning(
                    "metrics refresh of %s: %s", self.container.service_name, exc
                )
            eventlet.sleep(interval)

    def refresh(self) -> None:
        """Read the levels once (also called by tests for a fresh scrape)."""
        service = self.container.service_name
        metrics = for_service(service)
        app = self._application()
        if app is not None:
            metrics.parked_open.set(ParkingLot(app.kernel).count_open())
        relay = self._relay()
        if relay is not None:
            metrics.relay_position.set(relay.position())
            metrics.relay_lag.set(relay.lag())
        subscriptions = [s for s in topology.SUBSCRIPTIONS if s.consumer == service]
        if subscriptions:
            with Connection(self.container.config["AMQP_URI"]) as conn:
                for subscription in subscriptions:
                    channel = conn.channel()
                    try:
                        _, waiting, _ = channel.queue_declare(
                            subscription.queue_name, passive=True
                        )
                    except Exception:  # noqa: BLE001 - not declared yet: nothing waits
                        waiting = 0
                    finally:
                        if channel.is_open:
                            channel.close()
                    metrics.queue_messages.labels(queue=subscription.queue_name).set(
                        waiting
                    )

    def _application(self):
        for dependency in self.container.dependencies:
            if isinstance(dependency, Application) and dependency.app is not None:
                return dependency.app
        return None

    def _relay(self):
        for dependency in self.container.dependencies:
            if isinstance(dependency, OutboxRelayRunner) and dependency.relay:
                return dependency.relay
        return None

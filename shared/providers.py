"""nameko DependencyProviders of the kernel: the application and its relay."""

from __future__ import annotations

import logging
from collections.abc import Callable

from nameko.exceptions import deserialize_to_instance, registry
from nameko.extensions import DependencyProvider

import shared.nameko_fixes  # noqa: F401 - must patch before consumers run
import shared.rpc  # noqa: F401 - our errors cross RPC as themselves
from shared import audit, logs, rpc_requests
from shared.application import ServiceApplication
from shared.audit import AuditContext
from shared.envelope import Envelope
from shared.outbox import OutboxRelay, RelayStuck, ToEnvelope

log = logging.getLogger(__name__)

# crosses RPC as itself, so the gateway's /healthz can tell it from a crash
if f"{RelayStuck.__module__}.{RelayStuck.__name__}" not in registry:
    deserialize_to_instance(RelayStuck)


class Application(DependencyProvider):
    """Gives workers the service's eventsourcing application (one per container)."""

    def __init__(
        self,
        app_class: type[ServiceApplication],
        on_start: Callable[[ServiceApplication], object] | None = None,
        **kwargs,
    ):
        self.app_class = app_class
        self.on_start = on_start
        self.app: ServiceApplication | None = None
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.app = self.app_class()

    def start(self) -> None:
        if self.on_start is not None:
            self.on_start(self.app)

    def get_dependency(self, worker_ctx):
        return self.app

    def worker_setup(self, worker_ctx) -> None:
        """Runs in the worker's greenlet: name the service and the case on it."""
        service = self.container.service_name
        logs.current_service.set(service)
        rpc_requests.begin(worker_ctx.data.get(rpc_requests.CONTEXT_KEY, ""))
        args, kwargs = worker_ctx.args, worker_ctx.kwargs
        if args and isinstance(args[0], Envelope):
            audit.set_current(args[0].caused_context(service))
        elif "audit_data" in kwargs:
            audit.set_current(AuditContext.from_dict(kwargs["audit_data"] or {}))

    def kill(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self.app is not None:
            self.app.close()
            self.app = None


def application_of(container) -> ServiceApplication:
    """The application of a container's ``Application`` provider."""
    for dependency in container.dependencies:
        if isinstance(dependency, Application) and dependency.app is not None:
            return dependency.app
    raise LookupError(f"{container.service_name} has no Application provider")


class OutboxRelayRunner(DependencyProvider):
    """Runs the service's outbox relay for as long as the container runs."""

    def __init__(self, to_envelope: ToEnvelope, **kwargs):
        self.to_envelope = to_envelope
        self.relay: OutboxRelay | None = None
        self._thread = None
        super().__init__(**kwargs)

    def start(self) -> None:
        app = application_of(self.container)
        self.relay = OutboxRelay(
            app, self.to_envelope, amqp_uri=self.container.config["AMQP_URI"]
        )
        self._thread = self.container.spawn_managed_thread(
            self.relay.run, identifier=f"{self.container.service_name}.outbox_relay"
        )

    def stop(self) -> None:
        self._halt(lambda thread: thread.wait())

    def kill(self) -> None:
        self._halt(lambda thread: thread.kill())

    def _halt(self, finish) -> None:
        if self.relay is not None:
            self.relay.stop()
        if self._thread is not None:
            finish(self._thread)
            self._thread = None

    def get_dependency(self, worker_ctx):
        return self.relay

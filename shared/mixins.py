"""The RPC mixins every service has: ``Pingable`` (health, parked messages,
and the metrics of every entrypoint) and ``CaseHistory`` (a case's events and
their hash-chain check for the regulator's audit, 7.3.3). They sit apart from
the DependencyProviders of ``shared.providers``, which ``shared.rpc_metrics``
looks for in a container, so neither module imports the other back.
"""

from __future__ import annotations

from nameko.rpc import rpc

import shared.providers  # noqa: F401 - registers RelayStuck to cross RPC as itself
from shared.outbox import OutboxRelay, RelayStuck
from shared.rpc_metrics import ServiceMetrics


class Pingable:
    """Mixin: ``ping`` answers once the service's RPC consumer is running.

    Every service has it, so it also carries the metrics of every entrypoint.
    """

    name: str
    service_metrics = ServiceMetrics()

    @rpc(expected_exceptions=RelayStuck)
    def ping(self) -> str:
        """The service's name while it works; ``RelayStuck`` while its outbox
        relay cannot proceed (``OutboxRelay.stuck``), since a service that
        stores what it never publishes is not healthy although it answers.
        The gateway's /healthz calls it, and so every health check built on
        that sees the relay."""
        relay = getattr(self, "relay", None)
        if isinstance(relay, OutboxRelay):
            problem = relay.stuck()
            if problem is not None:
                raise RelayStuck(f"{self.name}: {problem}")
        return self.name

    @rpc
    def parked_messages(self) -> list[dict]:
        """For ops: messages parked and not yet replayed to success, without
        their payloads (delivery contract 3)."""
        from shared.parking import RESOLVED, ParkingLot

        fields = ("id", "consumer", "source", "event_type", "event_id", "error")
        return [
            {
                **{k: row[k] for k in fields},
                "attempts": row["attempts"],
                "status": row["status"],
                "parked_at": row["parked_at"],
            }
            for row in ParkingLot(self.app.kernel).list(None)
            if row["status"] != RESOLVED
        ]


class CaseHistory:
    """Mixin: ``case_events`` lists this service's events of a case (audit)."""

    @rpc
    def case_events(self, correlation_id: str) -> list[dict]:
        from shared.case_history import case_events

        return case_events(self.app, correlation_id)

    @rpc
    def verify_case(self, correlation_id: str) -> dict:
        """The hash-chain check of this service's streams of a case."""
        from shared.case_history import verify_case

        return verify_case(self.app, correlation_id)

    @rpc
    def case_audit(self, correlation_id: str) -> dict:
        """Both at once, from one read (the regulator's audit: 7.3.3):
        ``{"events": case_events, "check": verify_case}``."""
        from shared.case_history import case_audit

        return case_audit(self.app, correlation_id)

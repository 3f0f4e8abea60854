"""Prometheus metrics of the kernel, one family set per service.

Names follow ``qi_<service>_<thing>_total``; labels are low-cardinality (event
types and sources, never ids or personal data).
"""

from __future__ import annotations

import logging
from functools import cache

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)


class KernelMetrics:
    def __init__(self, service: str):
        p = f"qi_{service}"
        self.published = Counter(
            f"{p}_events_published_total",
            "Integration events published by the outbox relay (confirmed).",
            ["event_type"],
        )
        self.consumed = Counter(
            f"{p}_events_consumed_total",
            "Integration events processed with effect.",
            ["source", "event_type"],
        )
        self.duplicates = Counter(
            f"{p}_duplicates_ignored_total",
            "Integration events recognised as already processed.",
            ["source", "event_type"],
        )
        self.parked = Counter(
            f"{p}_messages_parked_total",
            "Messages whose handler failed and which were parked.",
            ["source", "event_type"],
        )
        self.parked_open = Gauge(
            f"{p}_parked_messages",
            "Parked messages not yet replayed to success (as last counted).",
        )
        self.relay_lag = Gauge(
            f"{p}_relay_lag_notifications",
            "Stored notifications not yet published by the outbox relay.",
        )
        self.relay_active = Gauge(
            f"{p}_relay_active",
            "1 when this process holds the service's relay lock.",
        )
        self.relay_batch_seconds = Histogram(
            f"{p}_relay_batch_seconds",
            "Time to publish one relay batch with confirms.",
        )
        self.handler_seconds = Histogram(
            f"{p}_handler_seconds",
            "Integration event handler duration.",
            ["source", "event_type"],
        )


@cache
def for_service(service: str) -> KernelMetrics:
    return KernelMetrics(service)


_started: set[int] = set()


def serve(port: int, addr: str = "127.0.0.1") -> None:
    """Start this process's /metrics endpoint once (port 0: none)."""
    if port and port not in _started:
        start_http_server(port, addr=addr)
        _started.add(port)
        log.info("metrics on http://%s:%d/metrics", addr, port)

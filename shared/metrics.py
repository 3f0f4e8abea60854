"""Prometheus metrics of the kernel, one family set per service.

Names follow ``qi_<service>_<thing>_total`` (counters) and
``qi_<service>_<thing>_seconds`` (durations); labels are low-cardinality (RPC
methods, routes, event types and sources, channels, item codes), never ids or
personal data. ``counter``/``gauge``/``histogram`` give a service's business
figures the same names and the same label check; ``observe_http`` is the HTTP
routes' RED (the gateway calls it, or attaches ``rpc_metrics.ServiceMetrics``).
"""

from __future__ import annotations

import logging
import re
from functools import cache

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

# Seconds: from a fast read (a few ms) to an RPC near the gateway's timeout.
DURATION_BUCKETS = (
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
# Labels that would name a person or a case: one series each, and personal data.
FORBIDDEN_LABEL = re.compile(
    r"(^|_)(id|ids|uuid|name|phone|email|applicant|actor|user)$"
)
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def _checked(service: str, thing: str, labelnames: tuple[str, ...]) -> str:
    if not SNAKE.match(service) or not SNAKE.match(thing):
        raise ValueError(f"metric parts must be snake_case: {service!r}, {thing!r}")
    bad = [name for name in labelnames if FORBIDDEN_LABEL.search(name)]
    if bad:
        raise ValueError(f"no ids or personal data as labels: {', '.join(bad)}")
    return f"qi_{service}_{thing}"


@cache
def counter(
    service: str, thing: str, documentation: str, labelnames: tuple[str, ...] = ()
) -> Counter:
    """``qi_<service>_<thing>_total``: one per process, however often asked."""
    name = _checked(service, thing, labelnames)
    return Counter(f"{name}_total", documentation, list(labelnames))


@cache
def gauge(
    service: str, thing: str, documentation: str, labelnames: tuple[str, ...] = ()
) -> Gauge:
    """``qi_<service>_<thing>``: a level, e.g. complaints open."""
    return Gauge(_checked(service, thing, labelnames), documentation, list(labelnames))


@cache
def histogram(
    service: str, thing: str, documentation: str, labelnames: tuple[str, ...] = ()
) -> Histogram:
    """``qi_<service>_<thing>_seconds``: a duration."""
    name = _checked(service, thing, labelnames)
    return Histogram(
        f"{name}_seconds", documentation, list(labelnames), buckets=DURATION_BUCKETS
    )


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
        self.requeued = Counter(
            f"{p}_messages_requeued_total",
            "Messages put back because a service they needed did not answer.",
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
            buckets=DURATION_BUCKETS,
        )
        self.relay_position = Gauge(
            f"{p}_relay_position",
            "Notification id up to which the relay has published (recorded).",
        )
        self.relay_errors = Counter(
            f"{p}_relay_errors_total",
            "Relay batches that failed (broker or database); retried.",
        )
        self.handler_seconds = Histogram(
            f"{p}_handler_seconds",
            "Integration event handling, from delivery to acknowledgement.",
            ["source", "event_type"],
            buckets=DURATION_BUCKETS,
        )
        self.event_lag_seconds = Histogram(
            f"{p}_event_lag_seconds",
            "From an integration event's occurrence to its handling here.",
            ["source"],
            buckets=DURATION_BUCKETS,
        )
        self.queue_messages = Gauge(
            f"{p}_queue_messages",
            "Messages waiting in this service's subscription queue (consumer lag).",
            ["queue"],
        )
        self.rpc_requests = Counter(
            f"{p}_rpc_requests_total",
            "RPC calls served, by outcome: ok, refused (an expected error such "
            "as a bad field) or error (unexpected).",
            ["method", "outcome"],
        )
        self.rpc_seconds = Histogram(
            f"{p}_rpc_seconds",
            "RPC call duration in the service's worker.",
            ["method"],
            buckets=DURATION_BUCKETS,
        )


@cache
def for_service(service: str) -> KernelMetrics:
    return KernelMetrics(service)


@cache
def _http_families(service: str) -> tuple[Counter, Histogram]:
    requests = counter(
        service,
        "http_requests",
        "HTTP requests answered, by route template, method and status.",
        ("route", "method", "status"),
    )
    seconds = histogram(
        service,
        "http_request",
        "HTTP request duration, by route template and method.",
        ("route", "method"),
    )
    return requests, seconds


def observe_http(
    route: str, method: str, status: int, seconds: float, service: str = "gateway"
) -> None:
    """Count one answered HTTP request (RED of a route).

    ``route`` is the template (``/api/v1/demands/<string:demand_id>``), never
    the requested path, so no id becomes a label.
    """
    requests, durations = _http_families(service)
    requests.labels(route=route, method=method, status=str(status)).inc()
    durations.labels(route=route, method=method).observe(seconds)


_started: set[int] = set()


def serve(port: int, addr: str = "127.0.0.1") -> None:
    """Start this process's /metrics endpoint once (port 0: none)."""
    if port and port not in _started:
        start_http_server(port, addr=addr)
        _started.add(port)
        log.info("metrics on http://%s:%d/metrics", addr, port)

"""RPC requests take effect once, even when the broker delivers them twice.

nameko acknowledges an RPC request only after replying; an instance that dies
in between leaves the request to be redelivered to another instance, which
would run the command again (a second contract review, a second follow-up).

Each request message carries the ``correlation_id`` its caller gave it, the
same on every delivery. The worker remembers it (``begin``), and every save
the command makes stores, in the same transaction as its events, a tracking
record named after the request and the save's ordinal within it. A second
delivery reaches the same ordinal, its insert collides with the record, and
the save is refused with ``DuplicateRequest`` before anything is stored twice.
"""

from __future__ import annotations

import contextvars
import hashlib

from eventsourcing.persistence import Tracking

from shared import metrics
from shared.errors import ConflictError

# the tracking records' application name; its ids are hashes of request ids
REQUESTS = "rpc-request"
# the key under which a worker's context data carries its request's id (set by
# shared/nameko_fixes.py from the message; nameko is not imported here, so
# command-line tools that store events do not load eventlet)
CONTEXT_KEY = "qi_rpc_request"


class DuplicateRequest(ConflictError):
    """This request already took effect: it was delivered a second time."""


# (request id, saves completed in this worker); a worker is one greenlet
_current: contextvars.ContextVar[tuple[str, int]] = contextvars.ContextVar(
    "qi_rpc_request", default=("", 0)
)


def begin(request_id: str) -> None:
    """Start the request a worker serves ("" for anything but an RPC)."""
    _current.set((request_id, 0))


def next_save() -> Tracking | None:
    """The tracking record the next save of this request stores, if any."""
    request_id, saves = _current.get()
    if not request_id:
        return None
    digest = hashlib.blake2b(f"{request_id}#{saves + 1}".encode(), digest_size=8)
    # a positive BIGINT, as the tracking table's notification_id is
    return Tracking(REQUESTS, int.from_bytes(digest.digest(), "big") >> 1)


def saved() -> None:
    """The save of ``next_save`` is stored: the next one gets the next ordinal."""
    request_id, saves = _current.get()
    if request_id:
        _current.set((request_id, saves + 1))


def repeated(service: str):
    """``qi_<service>_rpc_requests_repeated_total``: deliveries refused as repeats."""
    return metrics.counter(
        service,
        "rpc_requests_repeated",
        "RPC requests delivered again after they took effect, refused",
    )

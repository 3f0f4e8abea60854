"""RPC conventions shared by services and the gateway.

A call to another service gives up after QI_RPC_TIMEOUT_SECONDS with
``DependencyUnavailable``, whether it is made alone (``BoundedRpcProxy``) or
together with others (``gather``): the one place that timeout is applied.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import amqp.exceptions
import eventlet
import kombu.exceptions
from nameko.exceptions import UnknownService, deserialize_to_instance, registry
from nameko.rpc import RpcProxy

import shared.nameko_fixes  # noqa: F401 - must patch before consumers run
from shared import config
from shared.audit import Actor, AuditContext
from shared.errors import (
    ConflictError,
    DependencyUnavailable,
    NotFound,
    ValidationFailed,
)
from shared.rpc_requests import DuplicateRequest

for _error in (
    ValidationFailed,
    NotFound,
    ConflictError,
    DependencyUnavailable,
    DuplicateRequest,
):
    if f"{_error.__module__}.{_error.__name__}" not in registry:
        deserialize_to_instance(_error)


def audit_dict(actor: Actor, channel: str, correlation_id: str = "") -> dict:
    return AuditContext(
        actor=actor, channel=channel, correlation_id=correlation_id
    ).as_dict()


def rpc_timeout() -> float:
    """How long a call to another service may take (QI_RPC_TIMEOUT_SECONDS)."""
    return config.get_float("QI_RPC_TIMEOUT_SECONDS")


def _not_answered(what: str, seconds: float) -> DependencyUnavailable:
    return DependencyUnavailable(f"{what} did not answer within {seconds:g}s".strip())


def gather(calls: dict[object, Callable[[], object]]) -> dict[object, object]:
    """Start every call at once (each a ``call_async``), then wait for them all
    within one QI_RPC_TIMEOUT_SECONDS: each answer, or what it failed with
    (``DependencyUnavailable`` for one that did not answer in time). A
    service that is down costs one timeout, not one each."""
    seconds = rpc_timeout()
    deadline = time.monotonic() + seconds
    replies, found = {}, {}
    for name, start in calls.items():
        try:
            replies[name] = start()
        except Exception as exc:  # noqa: BLE001 - said per call, not raised
            found[name] = exc
    for name, reply in replies.items():
        try:
            with eventlet.Timeout(max(deadline - time.monotonic(), 0.001)):
                found[name] = reply.result()
        except eventlet.Timeout:
            found[name] = _not_answered("", seconds)  # the caller knows which
        except Exception as exc:  # noqa: BLE001 - said per call, not raised
            found[name] = exc
    return found


# what kombu and amqp raise when a request cannot reach RabbitMQ at all
BROKER_UNREACHABLE = (
    kombu.exceptions.OperationalError,
    amqp.exceptions.ConnectionError,
    ConnectionError,
)


class _BoundedService:
    """A service proxy whose calls give up after QI_RPC_TIMEOUT_SECONDS."""

    def __init__(self, proxy, service: str):
        self._proxy = proxy
        self._service = service

    def __getattr__(self, name: str):
        method = getattr(self._proxy, name)
        seconds = rpc_timeout()
        service = self._service

        def call(*args, **kwargs):
            try:
                with eventlet.Timeout(seconds):
                    return method(*args, **kwargs)
            except eventlet.Timeout:
                raise _not_answered(f"{service}.{name}", seconds) from None
            except UnknownService:
                # a service that is not running (no RPC queue) is unavailable,
                # as one that does not answer is: raised as DependencyUnavailable,
                # a caller's caller gets it too (an UnknownService raised in a
                # service reached the gateway as a RemoteError, and a 500)
                raise DependencyUnavailable(
                    f"{service} is not running (no RPC queue)"
                ) from None
            except BROKER_UNREACHABLE as exc:
                # the request could not be sent (RabbitMQ restarting): the
                # service is as unavailable as one that does not answer, and a
                # consumer puts its message back instead of parking it
                raise DependencyUnavailable(
                    f"{service}.{name}: the broker is unreachable ({exc})"
                ) from None

        call.call_async = method.call_async
        return call


class BoundedRpcProxy(RpcProxy):
    """nameko's RpcProxy, but a call to a stopped service cannot hang a worker
    (and with it a clean shutdown) forever."""

    def get_dependency(self, worker_ctx):
        return _BoundedService(super().get_dependency(worker_ctx), self.target_service)

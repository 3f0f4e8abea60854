"""RPC conventions shared by services and the gateway.

A call to another service gives up after QI_RPC_TIMEOUT_SECONDS with
``DependencyUnavailable``, whether it is made alone (``BoundedRpcProxy``) or
together with others (``Calls``, ``gather``): the one place that timeout is
applied.
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


class Calls:
    """Calls sent at once, each a ``call_async``, and each waited for only
    when its answer is needed, all within one QI_RPC_TIMEOUT_SECONDS: a
    service that is down costs one timeout, not one each."""

    def __init__(self):
        self.seconds = rpc_timeout()
        self.deadline = time.monotonic() + self.seconds
        self._replies: dict = {}

    def send(self, name, start: Callable, *args, **kwargs) -> None:
        """Send ``start(*args, **kwargs)`` (a ``call_async``) now; what it
        raises is said when the answer is waited for."""
        try:
            self._replies[name] = start(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - said when waited for
            self._replies[name] = exc

    def outcome(self, name, what: str = "") -> object:
        """The answer, or what the call failed with (``DependencyUnavailable``
        naming ``what`` for one that did not answer in time), not raised."""
        reply = self._replies.pop(name)
        if isinstance(reply, BaseException):
            return reply
        try:
            with eventlet.Timeout(max(self.deadline - time.monotonic(), 0.001)):
                return reply.result()
        except eventlet.Timeout:
            return _not_answered(what, self.seconds)
        except Exception as exc:  # noqa: BLE001 - said, not raised
            return exc

    def answer(self, name: str):
        """The answer, or raised; a service not there (not running, the broker
        unreachable) as ``DependencyUnavailable``, as one call through
        ``BoundedRpcProxy`` would say."""
        found = self.outcome(name, name)
        if isinstance(found, (UnknownService, *BROKER_UNREACHABLE)):
            raise DependencyUnavailable(f"{name}: {found}") from found
        if isinstance(found, BaseException):
            raise found
        return found


def gather(calls: dict[object, Callable[[], object]]) -> dict[object, object]:
    """Start every call at once (each a ``call_async``), then wait for them all
    within one QI_RPC_TIMEOUT_SECONDS: each answer, or what it failed with
    (``DependencyUnavailable`` for one that did not answer in time). A
    service that is down costs one timeout, not one each."""
    sent = Calls()
    for name, start in calls.items():
        sent.send(name, start)
    return {name: sent.outcome(name) for name in calls}  # the caller knows which


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

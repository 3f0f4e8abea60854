"""RPC conventions shared by services and the gateway."""

from __future__ import annotations

import eventlet
from nameko.exceptions import deserialize_to_instance, registry
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


class _BoundedService:
    """A service proxy whose calls give up after QI_RPC_TIMEOUT_SECONDS."""

    def __init__(self, proxy, service: str):
        self._proxy = proxy
        self._service = service

    def __getattr__(self, name: str):
        method = getattr(self._proxy, name)
        seconds = config.get_float("QI_RPC_TIMEOUT_SECONDS")
        service = self._service

        def call(*args, **kwargs):
            try:
                with eventlet.Timeout(seconds):
                    return method(*args, **kwargs)
            except eventlet.Timeout:
                raise DependencyUnavailable(
                    f"{service}.{name} did not answer within {seconds:g}s"
                ) from None

        call.call_async = method.call_async
        return call


class BoundedRpcProxy(RpcProxy):
    """nameko's RpcProxy, but a call to a stopped service cannot hang a worker
    (and with it a clean shutdown) forever."""

    def get_dependency(self, worker_ctx):
        return _BoundedService(super().get_dependency(worker_ctx), self.target_service)

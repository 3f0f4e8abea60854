"""RPC conventions shared by services and the gateway."""

from __future__ import annotations

from nameko.exceptions import deserialize_to_instance, registry

import shared.nameko_fixes  # noqa: F401 - must patch before consumers run
from shared.audit import Actor, AuditContext
from shared.errors import ConflictError, NotFound, ValidationFailed

for _error in (ValidationFailed, NotFound, ConflictError):
    if f"{_error.__module__}.{_error.__name__}" not in registry:
        deserialize_to_instance(_error)


def audit_dict(actor: Actor, channel: str, correlation_id: str = "") -> dict:
    return AuditContext(
        actor=actor, channel=channel, correlation_id=correlation_id
    ).as_dict()

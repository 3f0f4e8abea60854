"""Who did what, on which channel, for which case: the audit context.

An entrypoint opens an ``audit_scope`` (from the caller's identity or from the
integration event being handled); every domain event stored inside it is
stamped with that context by ``ServiceApplication``. Greenlets each have their
own context, so concurrent workers never mix actors.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Actor:
    id: str
    role: str
    institution: str = ""


SYSTEM = Actor(id="system", role="system")


@dataclass(frozen=True)
class AuditContext:
    actor: Actor = SYSTEM
    channel: str = "internal"
    correlation_id: str = ""
    causation_id: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> AuditContext:
        actor = data.get("actor") or {}
        return cls(
            actor=Actor(
                id=str(actor.get("id", SYSTEM.id)),
                role=str(actor.get("role", SYSTEM.role)),
                institution=str(actor.get("institution", "")),
            ),
            channel=str(data.get("channel", "internal")),
            correlation_id=str(data.get("correlation_id", "")),
            causation_id=str(data.get("causation_id", "")),
        )

    def with_correlation(self, correlation_id: str) -> AuditContext:
        return replace(self, correlation_id=correlation_id)


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "qi_audit",
    default=AuditContext(),  # noqa: B039 - frozen, never mutated
)


def current() -> AuditContext:
    return _current.get()


def set_current(context: AuditContext) -> None:
    """Set the context for the rest of this greenlet (a worker's whole life)."""
    _current.set(context)


@contextmanager
def audit_scope(context: AuditContext) -> Iterator[AuditContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)

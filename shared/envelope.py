"""The integration-event envelope: what crosses a service boundary.

Stored domain events stay inside their service; what other services see is an
``Envelope`` built by the publisher's ``schemas.py``, with an explicit type and
schema version, and the audit fields of the stored event it came from.

``signature`` is the publishing service's signature over all the other fields
(``shared/signing.py``): empty until the outbox relay signs the envelope, and
carried in the message body rather than a header so that a parked message
keeps it and is checked again when it is replayed.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from shared.audit import Actor, AuditContext

ENVELOPE_NAMESPACE = uuid.UUID("6f1c3d0e-8a52-4c1b-9a0e-2f6d3f1b7c44")


class EnvelopeError(ValueError):
    """A message that is not a well-formed integration event."""


@dataclass(frozen=True)
class Envelope:
    event_id: str
    type: str
    schema_version: int
    occurred_at: str
    source: str
    position: int
    aggregate_id: str
    aggregate_version: int
    correlation_id: str
    causation_id: str
    actor: dict
    channel: str
    data: dict = field(default_factory=dict)
    signature: str = ""

    # fields a message may lack: an unsigned one is parsed, then refused by
    # the consumer's signature check with that reason (not as malformed)
    OPTIONAL = ("signature",)

    @staticmethod
    def event_id_for(source: str, aggregate_id: str, version: int) -> str:
        """Stable id: the same stored event always gets the same event id."""
        return str(uuid.uuid5(ENVELOPE_NAMESPACE, f"{source}/{aggregate_id}/{version}"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: Any) -> Envelope:
        if not isinstance(body, dict):
            raise EnvelopeError("message body is not an object")
        missing = [
            f
            for f in cls.__dataclass_fields__
            if f not in body and f not in cls.OPTIONAL
        ]
        if missing:
            raise EnvelopeError(f"envelope lacks {', '.join(missing)}")
        try:
            return cls(
                event_id=str(body["event_id"]),
                type=str(body["type"]),
                schema_version=int(body["schema_version"]),
                occurred_at=str(body["occurred_at"]),
                source=str(body["source"]),
                position=int(body["position"]),
                aggregate_id=str(body["aggregate_id"]),
                aggregate_version=int(body["aggregate_version"]),
                correlation_id=str(body["correlation_id"]),
                causation_id=str(body["causation_id"]),
                actor=dict(body["actor"]),
                channel=str(body["channel"]),
                data=dict(body["data"]),
                signature=str(body.get("signature") or ""),
            )
        except (TypeError, ValueError) as exc:
            raise EnvelopeError(f"malformed envelope: {exc}") from exc

    def caused_context(self, service: str) -> AuditContext:
        """The audit context of what ``service`` does because of this event.

        The actor is the service itself (nobody pressed a button); the case and
        the cause are carried over so the history links back to this event.
        """
        return AuditContext(
            actor=Actor(id=f"service:{service}", role="system"),
            channel=self.channel,
            correlation_id=self.correlation_id,
            causation_id=self.event_id,
        )


def envelope_for(
    source: str,
    event: Any,
    position: int,
    event_type: str,
    schema_version: int,
    data: dict,
) -> Envelope:
    """Wrap a stored domain event's facts, with its audit stamp, for publishing."""
    stamp = AuditContext.from_dict(event.__dict__.get("audit", {}))
    aggregate_id = str(event.originator_id)
    return Envelope(
        event_id=Envelope.event_id_for(source, aggregate_id, event.originator_version),
        type=event_type,
        schema_version=schema_version,
        occurred_at=event.timestamp.isoformat(),
        source=source,
        position=position,
        aggregate_id=aggregate_id,
        aggregate_version=event.originator_version,
        correlation_id=stamp.correlation_id or aggregate_id,
        causation_id=stamp.causation_id,
        actor={
            "id": stamp.actor.id,
            "role": stamp.actor.role,
            "institution": stamp.actor.institution,
        },
        channel=stamp.channel,
        data=data,
    )

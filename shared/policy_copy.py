"""A service's copy of the institutions' service policies (catalog's
``PolicyChanged``): every version, with the moment it came into force.

Catalog keeps each institution's limits of the standard (7.4.2, 7.4.5, 8.3.4,
9.1.3, 9.2, 9.3, 9.4) in one place; each change is published with the whole
policy then in force. A service that judges cases by those limits keeps every
version here and judges a case by the version in force when the case started,
recorded on the case, so a later change never moves an old case's deadline.

The kernel knows no service: a service subclasses ``PolicyCopy`` in its own
module, naming its id namespace and the defaults (catalog's contract
``POLICY_DEFAULTS``), and mixes ``PolicyCopyMixin`` into its application with
``policy_copy`` set to that subclass.
"""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event

from shared.application import AuditedAggregate
from shared.envelope import Envelope


class PolicyCopy(AuditedAggregate):
    """The versions of one institution's policy, as catalog published them.

    A subclass names ``owner`` (its service: the id namespace, so two
    services' copies never share an id) and ``defaults`` (version 0)."""

    owner = ""  # the service keeping the copy
    defaults = MappingProxyType({})  # version 0's limits: a subclass's own

    @classmethod
    def create_id(cls, institution: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"qi-onestop:{cls.owner}-policy-copy:{institution}")

    @event("Opened")
    def __init__(self, institution: str):
        self.institution = institution
        self.versions: list[dict] = []

    def knows(self, version: int) -> bool:
        return any(v["version"] == version for v in self.versions)

    @event("Noted")
    def note(self, version: int, limits: dict, effective_at: str) -> None:
        self.versions.append(
            {"version": version, "limits": dict(limits), "effective_at": effective_at}
        )
        self.versions.sort(key=lambda v: v["version"])

    @classmethod
    def unchanged(cls) -> dict:
        """The policy of an institution that never changed one: version 0."""
        return {"version": 0, "limits": dict(cls.defaults)}

    def in_force(self, moment: datetime) -> dict:
        """{version, limits} in force at ``moment`` (an aware datetime)."""
        found = self.unchanged()
        for version in self.versions:
            if datetime.fromisoformat(version["effective_at"]) <= moment:
                found = version
        return {
            "version": found["version"],
            "limits": {**self.defaults, **found["limits"]},
        }


class PolicyCopyMixin:
    """Part of a ``ServiceApplication``: keeps the copy, answers the policy
    in force at a moment. ``policy_copy`` is the service's ``PolicyCopy``."""

    policy_copy = PolicyCopy

    def on_policy_changed(self, envelope: Envelope) -> bool:
        """Catalog's ``PolicyChanged``: the version kept, exactly once."""
        return self.process(envelope, self._note_policy)

    def _note_policy(self, envelope: Envelope) -> list:
        data = envelope.data
        kind = self.policy_copy
        try:
            copy = self.repository.get(kind.create_id(data["institution"]))
        except AggregateNotFoundError:
            copy = kind(institution=data["institution"])
        if not copy.knows(int(data["version"])):
            copy.note(int(data["version"]), data["limits"], data["effective_at"])
        return [copy]

    def policy_at(self, institution: str, moment: datetime) -> dict:
        """The institution's policy in force at ``moment`` (defaults: v0)."""
        return policy_at(self.repository, self.policy_copy, institution, moment)


def policy_at(
    repository, kind: type[PolicyCopy], institution: str, moment: datetime
) -> dict:
    """{version, limits} of ``institution`` in force at ``moment``, from the
    ``kind`` copy in ``repository`` (the defaults, version 0, without one)."""
    try:
        copy = repository.get(kind.create_id(institution))
    except AggregateNotFoundError:
        return kind.unchanged()
    return copy.in_force(moment)

"""An institution's service policy: the limits the standard sets or leaves to
local rules (deadlines in working days, hours before a demand is stale, the
green channel's surcharge), each with the standard's or a documented default
(``contract.POLICY_LIMITS``), read from this one place.

An institution's policy is an aggregate whose events are its changes, each
published as ``PolicyChanged`` with the whole policy then in force; services
keep the versions, and a case records the version it started under, so an old
case is judged by the limits of its day, not today's.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event

from services.catalog.contract import POLICY_DEFAULTS, POLICY_LIMITS, policy_id
from services.catalog.rules import known_fields
from shared.application import AuditedAggregate
from shared.errors import ValidationFailed
from shared.validation import Errors, require_text


def checked_limits(changes: dict) -> dict[str, int]:
    """Known keys only, each a whole number in its range; named when not."""
    known_fields(changes, tuple(POLICY_LIMITS))
    if not changes:
        raise ValidationFailed.single("limits", "请至少修改一项限值")
    errors = Errors()
    for key, value in changes.items():
        label, _, lowest, highest, _ = POLICY_LIMITS[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not lowest <= value <= highest
        ):
            errors.add(key, f"{label}应为{lowest}到{highest}之间的整数")
        elif key == "efficiency_review_months" and 12 % value:
            errors.add(key, f"{label}应为1、2、3、4或6")  # periods tile the year
    errors.raise_if_any()
    return dict(changes)


class ServicePolicy(AuditedAggregate):
    """One institution's limits; its version is the policy version."""

    @staticmethod
    def create_id(institution: str) -> UUID:
        return policy_id(institution)

    @event("Opened")
    def __init__(self, institution: str):
        self.institution = institution
        self.limits = dict(POLICY_DEFAULTS)

    def change(self, changes: dict, reason: str) -> None:
        limits = checked_limits(changes)
        reason = require_text(reason, "reason", "修改理由", 500)
        self._changed(self.institution, limits, {**self.limits, **limits}, reason)

    @event("Changed")
    def _changed(
        self, institution: str, changes: dict, limits: dict, reason: str
    ) -> None:
        self.limits = dict(limits)

    def as_dict(self) -> dict:
        return {
            "institution": self.institution,
            # the number of changes: 0 is the defaults, 1 the first change
            "version": self.version - 1,
            "limits": dict(self.limits),
            "changed_at": self.modified_on.isoformat() if self.version > 1 else "",
        }


def default_policy(institution: str) -> dict:
    """The policy of an institution that never changed one: version 0."""
    return {
        "institution": institution,
        "version": 0,
        "limits": dict(POLICY_DEFAULTS),
        "changed_at": "",
    }


def described(policy: dict) -> dict:
    """The policy with each limit's label, range, default and basis (admin page)."""
    return {
        **policy,
        "items": [
            {
                "key": key,
                "label": label,
                "value": policy["limits"].get(key, default),
                "default": default,
                "lowest": lowest,
                "highest": highest,
                "basis": basis,
            }
            for key, (label, default, lowest, highest, basis) in POLICY_LIMITS.items()
        ],
    }


# -- over catalog's application (as ``resources`` and ``experts`` are) ---------


def _load(app, institution: str) -> ServicePolicy | None:
    try:
        return app.repository.get(policy_id(institution))
    except AggregateNotFoundError:
        return None


def policy_of(app, institution: str, as_of: datetime | None = None) -> dict:
    """The institution's policy now, or in force at ``as_of`` (a case's start)."""
    if not isinstance(institution, str) or not institution.strip():
        raise ValidationFailed.single("institution", "请指明机构")
    found = _load(app, institution)
    if found is None:
        return default_policy(institution)
    if as_of is not None:
        version = None
        for stored in app.recorder.select_events(found.id):
            if app.mapper.to_domain_event(stored).timestamp <= as_of:
                version = stored.originator_version
        if version is None:
            return default_policy(institution)
        found = app.repository.get(found.id, version=version)
    return found.as_dict() if found.version > 1 else default_policy(institution)


def change_policy(app, institution: str, changes, reason) -> dict:
    """An admin changes some limits of an institution, with a reason."""
    if not isinstance(institution, str) or not institution.strip():
        raise ValidationFailed.single("institution", "请指明机构")

    def command():
        policy = _load(app, institution) or ServicePolicy(institution=institution)
        policy.change(changes if isinstance(changes, dict) else None, reason)
        app.save(policy)
        return policy.as_dict()

    return app.retry_on_conflict(command)

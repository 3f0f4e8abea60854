"""Evaluation's copy of the institutions' service policies (catalog's
``PolicyChanged``, ``shared.policy_copy``): every version, with the moment it
came into force.

A survey is judged by the limits of its institution's policy in force when
the service ended (9.2.1: the rating window, and the call-back of an
unsatisfied rating); an improvement item by the policy in force when it was
opened (9.3). The version is recorded on the survey or item as it is made,
so a later change of the policy never moves an old case's deadline. The
periodic reviews (9.1.3, 9.2.2) follow the policy in force today.
"""

from __future__ import annotations

from datetime import datetime

from services.catalog.contract import POLICY_DEFAULTS
from shared import config, policy_copy


class PolicyCopy(policy_copy.PolicyCopy):
    """The versions of one institution's policy."""

    owner = "evaluation"
    defaults = POLICY_DEFAULTS


class PolicyCopyMixin(policy_copy.PolicyCopyMixin):
    """Part of ``EvaluationApplication``."""

    policy_copy = PolicyCopy


def policy_at(repository, institution: str, moment: datetime) -> dict:
    """The policy of ``institution`` (the front door's when it is "") in
    force at ``moment``: {version, limits}; for the fact policies, which hold
    the repository, not the application."""
    return policy_copy.policy_at(
        repository,
        PolicyCopy,
        institution or config.get("QI_FRONT_DOOR_INSTITUTION"),
        moment,
    )


def improvement_terms(repository, calendar, institution: str, at: datetime) -> dict:
    """An improvement item's deadline (the policy's ``improvement_days``
    working days from ``at``, 9.3) and the policy it follows, as
    ``ImprovementItem.open`` takes them."""
    found = policy_at(repository, institution, at)
    days = found["limits"]["improvement_days"]
    return {"deadline": calendar.deadline(at, days), "policy": found}

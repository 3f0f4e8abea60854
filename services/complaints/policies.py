"""Complaints' copy of the institutions' service policies (catalog's
``PolicyChanged``, ``shared.policy_copy``): every version, with the moment it
came into force.

A complaint is judged by the limits (9.4: to acknowledge, respond, close) of
its handling institution's policy in force when it was received; the version
is recorded on the complaint as it is received (its ``Received`` event), so a
later change of the policy never moves an old complaint's deadlines.
"""

from __future__ import annotations

from datetime import datetime

from services.catalog.contract import POLICY_DEFAULTS
from shared import policy_copy


class PolicyCopy(policy_copy.PolicyCopy):
    """The versions of one institution's policy."""

    owner = "complaints"
    defaults = POLICY_DEFAULTS


class PolicyCopyMixin(policy_copy.PolicyCopyMixin):
    """Part of ``ComplaintsApplication``."""

    policy_copy = PolicyCopy

    def policy_at_receipt(self, institution: str, received_at: datetime) -> dict:
        """The policy a complaint is judged by: its handling institution's
        (the front door's if it names none) in force when it was received
        (``Complaint.receive``'s ``policy_at``)."""
        return self.policy_at(institution or self.front_door, received_at)

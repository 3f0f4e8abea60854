"""Referral's copy of the institutions' service policies (catalog's
``PolicyChanged``, ``shared.policy_copy``): every version, with the moment it
came into force.

A referral is judged by the limits of the referring institution's policy in
force when the referral was opened (8.3.4); the version is recorded on the
referral when it is first sent (``Referral.apply_policy``), so a later change
of the policy never moves an old referral's deadline.
"""

from __future__ import annotations

from services.catalog.contract import POLICY_DEFAULTS
from shared import policy_copy


class PolicyCopy(policy_copy.PolicyCopy):
    """The versions of one institution's policy (ids and stored topics as
    before the copy moved to the kernel)."""

    owner = "referral"
    defaults = POLICY_DEFAULTS


class PolicyCopyMixin(policy_copy.PolicyCopyMixin):
    """Part of ``ReferralApplication``."""

    policy_copy = PolicyCopy

    def under_policy(self, referral) -> None:
        """Record, once, the policy the referral is judged by: the one in
        force when it was opened."""
        if getattr(referral, "policy", None) is None:
            found = self.policy_at(referral.origin_institution, referral.created_on)
            referral.apply_policy(found["version"], found["limits"])

"""Who and which case a referral's events are recorded under (7.3.3): the
case's correlation, and the platform's own actor for what it does by itself.
Used by the application's commands and by the deadline sweeps alike."""

from __future__ import annotations

from contextlib import contextmanager

from shared import audit


@contextmanager
def case_scope(case_id: str):
    """Every referral event carries its case (the demand id) as correlation."""
    with audit.audit_scope(audit.current().with_correlation(case_id)):
        yield


@contextmanager
def platform_scope():
    """What the platform does by itself (re-routing, sweeps): its own actor."""
    context = audit.current()
    actor = audit.Actor(id="service:referral", role="system")
    with audit.audit_scope(audit.AuditContext(actor, context.channel)):
        yield

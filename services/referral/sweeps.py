"""Deadline sweeps: a reminder before, an escalation after each deadline, each
exactly once, and re-routing of what was not signed for in time (8.3.4, 8.3.5).

Run by a nameko timer in every instance and over RPC with an explicit clock in
tests. Exactly once holds because each reminder and escalation is an event on
the referral keyed by its deadline: two instances sweeping at once meet on the
aggregate's version, and the loser retries on fresh state, where the key is
already recorded; after a restart the keys are still there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from services.referral.projections import ROUTE
from services.referral.scopes import case_scope, platform_scope
from shared import config
from shared.metrics import counter
from shared.validation import aware

# reminders go out this long before a deadline
REMINDER_LEAD = timedelta(hours=4)
SWEPT = ("sent", "accepted", "in_progress", "returned")
# opened but not yet with a partner: escalated after QI_REFERRAL_UNSENT_WORKING_HOURS
UNSENT = ("requested", "matched")

REMINDERS = counter(
    "referral", "reminders", "Reminders before a deadline, by stage.", ("stage",)
)
ESCALATIONS = counter(
    "referral",
    "escalations",
    "Escalations to a manager, by stage (acceptance, completion, routing).",
    ("stage",),
)
REROUTES = counter(
    "referral",
    "reroutes",
    "Returned referrals sent on to the next candidate, by cause.",
    ("cause",),
)


def sweep_one(app, referral_id, catalog, now: datetime) -> list[str]:
    """Remind and escalate one referral; a timed-out one is re-routed."""
    now = aware(now, "now")

    def run():
        referral = app._referral(referral_id)
        reminded = referral.remind_due(now, REMINDER_LEAD)
        fresh = referral.escalate_overdue(now)
        limit = config.get_float("QI_REFERRAL_UNSENT_WORKING_HOURS")
        if referral.escalate_unsent(now, limit, app.calendar):
            fresh.append("sending")
        if "acceptance" in fresh:
            referral.time_out()
        if referral.pending_events:
            with platform_scope(), case_scope(referral.demand_id):
                app.save(referral)
        return reminded, fresh, referral.status

    reminded, fresh, status = app.retry_on_conflict(run)
    for stage in reminded:
        REMINDERS.labels(stage=stage).inc()
    for stage in fresh:
        ESCALATIONS.labels(stage=stage).inc()
    if status == "returned":
        reroute(app, referral_id, catalog)
    return fresh


def reroute(app, referral_id, catalog) -> str:
    """The next untried qualified candidate, asked of catalog now (4.1)."""

    def run():
        referral = app._referral(referral_id)
        if referral.status != "returned":
            return referral.status, ""
        candidates = app.candidates(referral.item_code, catalog, referral.tried)
        outcome = ""
        if candidates:
            referral.match(candidates)
            referral.send(app.clock(), app.calendar)
            outcome = "timed_out" if referral.returns[-1]["timed_out"] else "declined"
        elif referral.escalate_unroutable():
            outcome = "unroutable"
        if referral.pending_events:
            with platform_scope(), case_scope(referral.demand_id):
                app.save(referral)
        return referral.status, outcome

    status, outcome = app.retry_on_conflict(run)
    if outcome == "unroutable":
        ESCALATIONS.labels(stage="routing").inc()
    elif outcome:
        REROUTES.labels(cause=outcome).inc()
    return status


def sweep_all(app, catalog, now: datetime) -> dict[str, list[str]]:
    app.view.catch_up()
    rows = app.kernel.query(
        select(ROUTE.referral_id)
        .where(ROUTE.status.in_(SWEPT + UNSENT))
        .order_by(ROUTE.referral_id)
    )
    escalated = {}
    for row in rows:
        fresh = sweep_one(app, row["referral_id"], catalog, now)
        if fresh:
            escalated[row["referral_id"]] = fresh
    return escalated

"""The manager's board of deadlines (7.4.2, 8.3.4): demands idle with their
first responder, referrals past their deadlines or escalated (those still
waiting to be sent too), referred demands whose referrals could not be opened
and why, in-house service past its due date, the open demands of disabled
accounts (to reassign), and the staff's efficiency this half-year so far
(9.2.2), of the manager's institution.

Its calls are sent at once and answered in parallel, each waited for only
when its answer is needed, all within one QI_RPC_TIMEOUT_SECONDS, instead of
a dozen calls one after another: the idle demands are asked for as soon as
the service policy (the idle limit) is known, the referred demands'
referrals as soon as those demands are. A call that fails fails the board
as before.
"""

from __future__ import annotations

from datetime import datetime

from services.gateway.access import MANAGERS, STAFF_ROLES
from services.gateway.usecases import demands
from services.gateway.usecases.common import web
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import OWN_INSTITUTION
from shared.audit import Actor
from shared.rpc import Calls

# referred demands whose referrals the board opens, newest first; of their
# referrals, those in referral's contract.WATCHED states: with the partner,
# and before they are sent (escalated when they wait too long,
# QI_REFERRAL_UNSENT_WORKING_HOURS)
REFERRED_DEMANDS = 50


def overdue_stage(referral: dict, now: datetime) -> str:
    """Which deadline an open referral has passed at ``now``: its signing for
    (8.3.4) or its completion; empty when it is on time."""
    state = referral.get("state")
    if state == "sent" and _passed(referral.get("acceptance_due"), now):
        return "签收超期"
    if state in ("accepted", "in_progress") and _passed(
        referral.get("completion_due"), now
    ):
        return "办结超期"
    return ""


def _passed(due: str | None, now: datetime) -> bool:
    if not due:
        return False
    return datetime.fromisoformat(due) < now


def _watched(inbox: list[dict], sent_out: list[dict], now: datetime) -> list[dict]:
    """Open referrals the institution is waiting on: those addressed to it
    (its inbox) and those its referred demands sent out (referral's
    ``watched_referrals`` of the demands intake's ``referred_demands``
    names); each with the deadline it has passed and the escalations the
    sweep recorded."""
    found = {r["id"]: {**r, "side": "承办"} for r in inbox}
    for full in sent_out:
        if full["id"] not in found:
            found[full["id"]] = {**full, "side": "转出"}
    watched = []
    for referral in found.values():
        late = overdue_stage(referral, now)
        if late or referral.get("escalated"):
            watched.append({**referral, "overdue": late})
    return sorted(watched, key=lambda r: (r.get("sent_at") or "", r["id"]))


@use_case(roles=MANAGERS, owner=OWN_INSTITUTION)
def board(
    gw, actor: Actor, _, *, now: datetime, hours: float | None, since, until
) -> dict:
    """Demands idle ``hours`` working hours at ``now`` (None: the
    institution's service policy's limit, 7.4.2), referrals late or
    escalated, and each staff member's figures of ``[since, until)``."""
    institution, audit = actor.institution, web(actor)
    calls = Calls()
    if hours is None:  # the service policy's limit in force now (7.4.2)
        calls.send("policy", gw.catalog.policy.call_async, institution)
    calls.send(
        "referred", gw.intake.referred_demands.call_async, institution, REFERRED_DEMANDS
    )
    calls.send("inbox", gw.referral.inbox.call_async, institution, audit_data=audit)
    calls.send("unopened", gw.referral.unopened_referrals.call_async, institution)
    calls.send("in_house_overdue", gw.intake.overdue_in_house.call_async, institution)
    # the half-year summary (9.1.3) and the efficiency review (9.2.2) due
    calls.send(
        "reviews",
        gw.evaluation.due_reviews.call_async,
        institution,
        now.isoformat(),
        audit_data=audit,
    )
    # the institution's accounts, read once for its disabled owners and staff
    accounts = [a for a in gw.app.accounts() if a["institution"] == institution]
    disabled = {a["username"]: a["display_name"] for a in accounts if not a["active"]}
    staff = [a for a in accounts if a["role"] in STAFF_ROLES and a["active"]]
    if disabled:
        calls.send(
            "disabled",
            gw.intake.open_demands_of.call_async,
            institution,
            sorted(disabled),
        )
    if staff:  # every member's figures in one call (9.2.2)
        calls.send(
            "figures",
            gw.evaluation.efficiency_figures_of_staff.call_async,
            [a["username"] for a in staff],
            since,
            until,
        )
    if hours is None:
        hours = demands.idle_limit(lambda: calls.answer("policy"))
    calls.send(
        "stale", gw.intake.stale_demands.call_async, now.isoformat(), hours, institution
    )
    referred = calls.answer("referred")
    sent_out = []
    if referred:
        calls.send(
            "sent_out",
            gw.referral.watched_referrals.call_async,
            referred,
            audit_data=audit,
        )
    inbox = calls.answer("inbox")
    if referred:
        sent_out = calls.answer("sent_out")
    figures = calls.answer("figures") if staff else {}
    return {
        "stale": calls.answer("stale"),
        "referrals": _watched(inbox, sent_out, now),
        "unopened": calls.answer("unopened"),
        "in_house_overdue": calls.answer("in_house_overdue"),
        # open demands whose owner's account is disabled: the manager
        # reassigns them (7.4.2), or no one answers for them
        "disabled_owners": [
            {**row, "owner_name": disabled.get(row["owner"], "")}
            for row in (calls.answer("disabled") if disabled else [])
        ],
        # the active staff and managers, each with the figures of the period
        "staff": [{**a, "figures": figures[a["username"]]} for a in staff],
        "reviews": calls.answer("reviews"),
    }

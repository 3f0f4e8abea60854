"""The manager's board of deadlines (7.4.2, 8.3.4): demands idle with their
first responder, referrals past their deadlines or escalated (those still
waiting to be sent too), referred demands whose referrals could not be opened
and why, in-house service past its due date, the open demands of disabled
accounts (to reassign), and the staff's efficiency this half-year so far
(9.2.2), of the manager's institution."""

from __future__ import annotations

from datetime import datetime

from services.gateway.access import MANAGERS
from services.gateway.usecases import demands, efficiency
from services.gateway.usecases.common import web
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import OWN_INSTITUTION
from services.referral.contract import WITH_PARTNER
from shared.audit import Actor

# referred demands whose referrals the board opens, newest first
REFERRED_DEMANDS = 50
# a referral sent out is watched while with the partner, and before it is
# sent (escalated when it waits too long, QI_REFERRAL_UNSENT_WORKING_HOURS)
WATCHED = (*WITH_PARTNER, "requested", "matched")


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


def _watched(gw, actor: Actor, now: datetime) -> list[dict]:
    """Open referrals the institution is waiting on: those addressed to it
    (its inbox) and those its referred demands sent out; each with the
    deadline it has passed and the escalations the sweep recorded."""
    audit = web(actor)
    found = {
        r["id"]: {**r, "side": "承办"}
        for r in gw.referral.inbox(actor.institution, audit_data=audit)
    }
    page = gw.intake.demands(actor.institution, "referred", 0, REFERRED_DEMANDS)
    for row in page["items"]:
        demand = gw.intake.get_demand(row["demand_id"])
        codes = [need["item_code"] for need in demand["needs"]]
        for brief in gw.referral.referrals_for(row["demand_id"], codes):
            if brief["id"] in found or brief["state"] not in WATCHED:
                continue
            full = gw.referral.referral(brief["id"], audit_data=audit)
            found[brief["id"]] = {**full, "side": "转出"}
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
    if hours is None:
        hours = demands.stale_hours(gw, actor.institution)
    return {
        "stale": gw.intake.stale_demands(now.isoformat(), hours, actor.institution),
        "referrals": _watched(gw, actor, now),
        "unopened": gw.referral.unopened_referrals(actor.institution),
        "in_house_overdue": gw.intake.overdue_in_house(actor.institution),
        "disabled_owners": _disabled_owners(gw, actor),
        "staff": efficiency.own_staff.run(gw, actor, None, since=since, until=until),
        # the half-year summary (9.1.3) and the efficiency review (9.2.2) due
        "reviews": gw.evaluation.due_reviews(
            actor.institution, now.isoformat(), audit_data=web(actor)
        ),
    }


def _disabled_owners(gw, actor: Actor) -> list[dict]:
    """Open demands whose owner's account is disabled: the manager reassigns
    them (7.4.2), or no one answers for them."""
    disabled = {
        a["username"]: a["display_name"]
        for a in gw.app.accounts()
        if a["institution"] == actor.institution and not a["active"]
    }
    rows = gw.intake.open_demands_of(actor.institution, sorted(disabled))
    return [{**row, "owner_name": disabled.get(row["owner"], "")} for row in rows]

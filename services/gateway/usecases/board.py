"""The manager's board of deadlines (7.4.2, 8.3.4): demands idle with their
first responder, referrals past their deadlines or escalated (those still
waiting to be sent too), referred demands whose referrals could not be opened
and why, in-house service past its due date, the open demands of disabled
accounts (to reassign), and the staff's efficiency this half-year so far
(9.2.2), of the manager's institution."""

from __future__ import annotations

from datetime import datetime

from services.gateway.access import MANAGERS, STAFF_ROLES
from services.gateway.usecases import demands
from services.gateway.usecases.common import web
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import OWN_INSTITUTION
from shared.audit import Actor

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


def _watched(gw, actor: Actor, now: datetime) -> list[dict]:
    """Open referrals the institution is waiting on: those addressed to it
    (its inbox) and those its referred demands sent out; each with the
    deadline it has passed and the escalations the sweep recorded. The
    referred demands' referrals come in two calls, not one per demand and
    referral: intake names the demands and their items, referral answers the
    watched referrals of them all."""
    audit = web(actor)
    found = {
        r["id"]: {**r, "side": "承办"}
        for r in gw.referral.inbox(actor.institution, audit_data=audit)
    }
    referred = gw.intake.referred_demands(actor.institution, REFERRED_DEMANDS)
    if referred:
        for full in gw.referral.watched_referrals(referred, audit_data=audit):
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
    if hours is None:
        hours = demands.stale_hours(gw, actor.institution)
    # the institution's accounts, read once for its disabled owners and staff
    accounts = [a for a in gw.app.accounts() if a["institution"] == actor.institution]
    return {
        "stale": gw.intake.stale_demands(now.isoformat(), hours, actor.institution),
        "referrals": _watched(gw, actor, now),
        "unopened": gw.referral.unopened_referrals(actor.institution),
        "in_house_overdue": gw.intake.overdue_in_house(actor.institution),
        "disabled_owners": _disabled_owners(gw, actor, accounts),
        "staff": _staff(gw, accounts, since, until),
        # the half-year summary (9.1.3) and the efficiency review (9.2.2) due
        "reviews": gw.evaluation.due_reviews(
            actor.institution, now.isoformat(), audit_data=web(actor)
        ),
    }


def _staff(gw, accounts: list[dict], since, until) -> list[dict]:
    """The active staff and managers of the institution, each with the
    figures of ``[since, until)`` (9.2.2): one call to evaluation for them
    all, the same figures ``efficiency.own_staff`` gives."""
    staff = [a for a in accounts if a["role"] in STAFF_ROLES and a["active"]]
    if not staff:
        return []
    figures = gw.evaluation.efficiency_figures_of_staff(
        [a["username"] for a in staff], since, until
    )
    return [{**a, "figures": figures[a["username"]]} for a in staff]


def _disabled_owners(gw, actor: Actor, accounts: list[dict]) -> list[dict]:
    """Open demands whose owner's account is disabled: the manager reassigns
    them (7.4.2), or no one answers for them."""
    disabled = {a["username"]: a["display_name"] for a in accounts if not a["active"]}
    rows = gw.intake.open_demands_of(actor.institution, sorted(disabled))
    return [{**row, "owner_name": disabled.get(row["owner"], "")} for row in rows]

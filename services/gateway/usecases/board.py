"""The manager's board of deadlines (7.4.2, 8.3.4): demands idle with their
first responder, referrals past their deadlines or escalated (those still
waiting to be sent too), referred demands whose referrals could not be opened
and why, in-house service past its due date, the open demands of disabled
accounts (to reassign), and the staff's efficiency this half-year so far
(9.2.2), of the manager's institution.

Read in two rounds of calls, each round's calls sent at once and answered in
parallel (``shared.rpc.gather``), instead of a dozen calls one after another:
the second round needs the first's service policy (the idle limit) and
referred demands. A call that fails fails the board as before.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from nameko.exceptions import UnknownService

from services.gateway.access import MANAGERS, STAFF_ROLES
from services.gateway.usecases.common import web
from services.gateway.usecases.demands import STALE_AFTER_WORKING_HOURS
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import OWN_INSTITUTION
from shared.audit import Actor
from shared.errors import DependencyUnavailable
from shared.rpc import BROKER_UNREACHABLE, gather

# referred demands whose referrals the board opens, newest first; of their
# referrals, those in referral's contract.WATCHED states: with the partner,
# and before they are sent (escalated when they wait too long,
# QI_REFERRAL_UNSENT_WORKING_HOURS)
REFERRED_DEMANDS = 50
# what a service that is not there answers (``shared.rpc._BoundedService``)
NOT_ANSWERING = (DependencyUnavailable, UnknownService, *BROKER_UNREACHABLE)


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


def _answers(calls: dict) -> dict:
    """Every call's answer, the calls sent at once; the first failure is
    raised, a service not there as ``DependencyUnavailable`` (as one call
    through the gateway's proxies would), except the service policy's, for
    which the default idle limit stands (``demands.stale_hours``)."""
    found = gather(calls)
    policy = found.pop("policy", None)
    for name, answer in found.items():
        if isinstance(answer, NOT_ANSWERING) and not isinstance(
            answer, DependencyUnavailable
        ):
            raise DependencyUnavailable(f"{name}: {answer}") from answer
        if isinstance(answer, BaseException):
            raise answer
    if isinstance(policy, NOT_ANSWERING):
        found["hours"] = STALE_AFTER_WORKING_HOURS
    elif isinstance(policy, BaseException):
        raise policy
    elif policy is not None:
        found["hours"] = float(
            policy["limits"].get("stale_after_working_hours", STALE_AFTER_WORKING_HOURS)
        )
    return found


@use_case(roles=MANAGERS, owner=OWN_INSTITUTION)
def board(
    gw, actor: Actor, _, *, now: datetime, hours: float | None, since, until
) -> dict:
    """Demands idle ``hours`` working hours at ``now`` (None: the
    institution's service policy's limit, 7.4.2), referrals late or
    escalated, and each staff member's figures of ``[since, until)``."""
    institution, audit = actor.institution, web(actor)
    # the institution's accounts, read once for its disabled owners and staff
    accounts = [a for a in gw.app.accounts() if a["institution"] == institution]
    disabled = {a["username"]: a["display_name"] for a in accounts if not a["active"]}
    staff = [a for a in accounts if a["role"] in STAFF_ROLES and a["active"]]
    first = {
        "inbox": partial(gw.referral.inbox.call_async, institution, audit_data=audit),
        "referred": partial(
            gw.intake.referred_demands.call_async, institution, REFERRED_DEMANDS
        ),
        "unopened": partial(gw.referral.unopened_referrals.call_async, institution),
        "in_house_overdue": partial(gw.intake.overdue_in_house.call_async, institution),
        # the half-year summary (9.1.3) and the efficiency review (9.2.2) due
        "reviews": partial(
            gw.evaluation.due_reviews.call_async,
            institution,
            now.isoformat(),
            audit_data=audit,
        ),
    }
    if hours is None:  # the service policy's limit in force now (7.4.2)
        first["policy"] = partial(gw.catalog.policy.call_async, institution)
    if disabled:
        first["disabled"] = partial(
            gw.intake.open_demands_of.call_async, institution, sorted(disabled)
        )
    if staff:  # every member's figures in one call (9.2.2)
        first["figures"] = partial(
            gw.evaluation.efficiency_figures_of_staff.call_async,
            [a["username"] for a in staff],
            since,
            until,
        )
    found = _answers(first)
    hours = found.get("hours", hours)
    second = {
        "stale": partial(
            gw.intake.stale_demands.call_async, now.isoformat(), hours, institution
        )
    }
    if found["referred"]:
        second["sent_out"] = partial(
            gw.referral.watched_referrals.call_async,
            found["referred"],
            audit_data=audit,
        )
    found.update(_answers(second))
    figures = found.get("figures", {})
    return {
        "stale": found["stale"],
        "referrals": _watched(found["inbox"], found.get("sent_out", []), now),
        "unopened": found["unopened"],
        "in_house_overdue": found["in_house_overdue"],
        # open demands whose owner's account is disabled: the manager
        # reassigns them (7.4.2), or no one answers for them
        "disabled_owners": [
            {**row, "owner_name": disabled.get(row["owner"], "")}
            for row in found.get("disabled", [])
        ],
        # the active staff and managers, each with the figures of the period
        "staff": [{**a, "figures": figures[a["username"]]} for a in staff],
        "reviews": found["reviews"],
    }

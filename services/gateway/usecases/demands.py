"""A customer's demand (8.2, 7.4): registered online or at the window, listed
for its institution, read with its Appendix B form and referrals, worked by
staff commands (first responder 7.4.2, one-time materials notice 7.4.3,
green channel 7.4.5, contract review and triage 8.3), followed by its
progress code (7.4.6).

The acting staff member is always the caller: a body cannot name someone
else (7.4.2). Readers without need of contact data (the regulator) see the
form masked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from services.catalog.contract import POLICY_DEFAULTS
from services.gateway.access import (
    ANONYMOUS,
    MANAGERS,
    READERS_OF_CASES,
    STAFF_ROLES,
    sees_personal_data,
)
from services.gateway.replays import KeyReused
from services.gateway.usecases import customer
from services.gateway.usecases.operation import UseCase, use_case
from services.gateway.usecases.owners import (
    CODE_HOLDER,
    DEMAND,
    DEMAND_IN_INTAKE,
    OWN_INSTITUTION,
)
from shared.audit import Actor
from shared.errors import DependencyUnavailable, ValidationFailed
from shared.privacy import masked_demand, masked_registration
from shared.rpc import audit_dict

# a demand whose owner did nothing for this long is shown to managers (7.4.2):
# the institution's service policy's limit (``stale_hours``), this by default
STALE_AFTER_WORKING_HOURS = float(POLICY_DEFAULTS["stale_after_working_hours"])
# what a customer filing online is told: no one else's data, nothing internal
FILED = ("id", "progress_code", "status", "registered_at")


def stale_hours(gw, institution: str) -> float:
    """7.4.2: the working hours after which the institution's idle demands
    are shown to its managers: its service policy's limit in force now,
    asked of catalog (``policy``, one aggregate read) each time, so a change
    counts at once; catalog not answering: the default."""
    return idle_limit(lambda: gw.catalog.policy(institution))


def idle_limit(policy: Callable[[], dict]) -> float:
    """``stale_hours`` from ``policy()``, catalog's answer however it is
    waited for (the board sends the call with its others)."""
    try:
        limits = policy()["limits"]
    except DependencyUnavailable:
        return STALE_AFTER_WORKING_HOURS
    return float(limits.get("stale_after_working_hours", STALE_AFTER_WORKING_HOURS))


@use_case(roles=STAFF_ROLES, owner=OWN_INSTITUTION, anonymous=True)
def register(
    gw, actor: Actor, _, *, form: dict, idempotency_key: str | None, client: str
):
    """A customer online (no login) or staff at a window registers a demand;
    the customer is answered its id and progress code only (the one answer
    that carries the code: 7.4.6, 9.2.1).

    An Idempotency-Key is the caller's own (an anonymous caller's, its
    address's: ``client``): intake derives the demand's id from it, so an
    unscoped key would let one customer's retry find another's demand. The
    key reused for another form is 422."""
    channel = form.get("channel") if isinstance(form.get("channel"), str) else ""
    try:
        demand = gw.intake.register_demand(
            form,
            audit_data=audit_dict(actor, channel or "website"),
            idempotency_key=_scoped(idempotency_key, actor, client),
        )
    except ValidationFailed as exc:
        fields = [error["field"] for error in exc.errors]
        if fields == ["Idempotency-Key"] and "已用于" in str(exc):
            raise KeyReused() from None
        raise
    if actor is ANONYMOUS:
        return {key: demand[key] for key in FILED}
    return demand


def _scoped(key: str | None, actor: Actor, client: str) -> str | None:
    """The caller's key as intake keeps it: a digest of who sent it and the
    key (the same on a retry, another for anyone else)."""
    if not key:
        return None
    if len(key) > 200:  # as intake says it, before any digest hides it
        raise ValidationFailed.single("Idempotency-Key", "应为1到200个字符")
    caller = f"{actor.id}@{client}" if actor is ANONYMOUS else actor.id
    return hashlib.sha256(f"{caller}\x1f{key}".encode()).hexdigest()


@use_case(roles=READERS_OF_CASES, owner=OWN_INSTITUTION)
def listed(gw, actor: Actor, _, *, status: str, offset: int, limit: int) -> dict:
    """Staff and managers: their institution's; a regulator: everyone's."""
    institution = None if actor.role == "regulator" else actor.institution
    return gw.intake.demands(institution, status, offset, limit)


def _registration(gw, actor: Actor, demand_id: str) -> dict:
    registration = gw.intake.registration(demand_id)
    if not sees_personal_data(actor):
        registration = masked_registration(registration)
    return registration


@use_case(roles=READERS_OF_CASES, owner=DEMAND)
def view(gw, actor: Actor, demand: dict, *, demand_id: str) -> dict:
    """The demand, its Appendix B form (masked for the regulator), its
    referrals."""
    codes = [need["item_code"] for need in demand["needs"]]
    if not sees_personal_data(actor):
        demand = masked_demand(demand)
    shown = {k: v for k, v in demand.items() if k not in ("applicant", "contact_phone")}
    shown["registration"] = _registration(gw, actor, demand_id)
    shown["referrals"] = gw.referral.referrals_for(demand["id"], codes)
    return shown


@use_case(roles=READERS_OF_CASES, owner=DEMAND)
def history(gw, actor: Actor, demand: dict, *, demand_id: str) -> list[dict]:
    """Every event of the demand with its actor, role, institution, channel."""
    return gw.intake.history(demand_id)


@use_case(roles=READERS_OF_CASES, owner=DEMAND)
def case_file(gw, actor: Actor, demand: dict, *, demand_id: str) -> dict:
    """What the demand's page shows: the demand (and whether it is on the
    green channel), its form, the checklist of each item, its referrals with
    their deadlines (8.3.4) as the referral service shows them to the caller,
    and its history."""
    codes = [need["item_code"] for need in demand["needs"]]
    history = gw.intake.history(demand_id)
    # the demand's summary does not carry it; its history does (7.4.5)
    green = any(
        str(row["event"]).rpartition(".")[2] == "GreenChannelOpened" for row in history
    )
    audit = audit_dict(actor, "web", demand_id)
    referrals = [
        {**gw.referral.referral(brief["id"], audit_data=audit), **brief}
        for brief in gw.referral.referrals_for(demand_id, codes)
    ]
    if not sees_personal_data(actor):
        demand = masked_demand(demand)
    return {
        "demand": {**demand, "green_channel": demand.get("green_channel") or green},
        "registration": _registration(gw, actor, demand_id),
        "checklists": {code: gw.catalog.item(code) for code in codes},
        "referrals": referrals,
        "history": history,
    }


@use_case(roles=MANAGERS, owner=OWN_INSTITUTION)
def stale(gw, actor: Actor, _, *, now: str, hours: float | None) -> list[dict]:
    """7.4.2: the institution's demands whose owner did nothing for ``hours``
    working hours at ``now`` (None: its service policy's limit)."""
    if hours is None:
        hours = stale_hours(gw, actor.institution)
    return gw.intake.stale_demands(now, hours, actor.institution)


@use_case(roles=READERS_OF_CASES, owner=OWN_INSTITUTION)
def idle_hours(gw, actor: Actor, _, *, now: str) -> dict[str, float]:
    """The stale-demand rule for the workbench's deadline column: demands
    past the first responder's response time (7.4.2); a regulator's
    workbench spans institutions and has none."""
    if actor.role == "regulator":
        return {}
    hours = stale_hours(gw, actor.institution)
    rows = gw.intake.stale_demands(now, hours, actor.institution)
    return {row["demand_id"]: row["idle_working_hours"] for row in rows}


@use_case(roles=None, owner=CODE_HOLDER)
def progress(gw, actor: Actor, _, *, code: str) -> dict:
    """7.4.6: a customer follows their demand by its progress code: with the
    partner's stages, the expected date, the report and the messages sent
    (``services.gateway.usecases.customer``)."""
    return customer.progress_of(gw, code)


# -- staff commands on a demand -----------------------------------------------


@dataclass(frozen=True)
class Command:
    rpc: str
    roles: frozenset[str]
    arguments: Callable[[Actor, dict], tuple]
    # checks the gateway alone can make (it holds the accounts), before the call
    check: Callable[[object, Actor, dict], None] | None = None
    # the gateway reads the demand to check its institution first: for the
    # commands whose intake side reads it before applying them (materials,
    # triage, resolution, correction ask catalog or referral on its content)
    # and those the gateway checks a body of (a colleague's name), so another
    # institution's demand is refused before anything else is said; the
    # others intake checks as it applies them (DEMAND_IN_INTAKE)
    read_first: bool = False


def require_colleague(gw, actor: Actor, username: object, field: str) -> None:
    """The staff member a demand goes to is an active account of the caller's
    institution who works on demands (7.4.2): a mistyped or foreign name, or
    a disabled account, would leave the demand with no one."""
    account = gw.app.account(username) if isinstance(username, str) else None
    if (
        account is None
        or not account.active
        or account.institution != actor.institution
        or account.role not in STAFF_ROLES
    ):
        raise ValidationFailed.single(
            field, f"“{username}”不是本机构在岗的工作人员账号，请核对用户名"
        )


# what a correction may not change: the reason is the command's, the channel
# the registration's own (the command's channel is the body's ``channel``)
NOT_CORRECTED = ("reason", "channel")


SPECS: dict[str, Command] = {
    "take": Command("take", STAFF_ROLES, lambda a, b: (a.id,)),
    "handover": Command(
        "offer_handover",
        STAFF_ROLES,
        lambda a, b: (a.id, b.get("to_staff", ""), b.get("reason", "")),
        lambda gw, a, b: require_colleague(gw, a, b.get("to_staff"), "to_staff"),
        read_first=True,
    ),
    "handover-withdrawal": Command(
        "withdraw_handover", STAFF_ROLES, lambda a, b: (a.id, b.get("reason", ""))
    ),
    "reassignment": Command(
        "reassign",
        MANAGERS,
        lambda a, b: (b.get("to_staff", ""), b.get("reason", "")),
        lambda gw, a, b: require_colleague(gw, a, b.get("to_staff"), "to_staff"),
        read_first=True,
    ),
    "correction": Command(
        "correct_registration",
        STAFF_ROLES,
        lambda a, b: (
            a.id,
            {k: v for k, v in b.items() if k not in NOT_CORRECTED},
            b.get("reason", ""),
        ),
        read_first=True,
    ),
    "handover-answer": Command(
        "answer_handover",
        STAFF_ROLES,
        lambda a, b: (a.id, b.get("accept") is True, b.get("reason", "")),
    ),
    "follow-ups": Command(
        "follow_up", STAFF_ROLES, lambda a, b: (a.id, b.get("note", ""))
    ),
    "materials-notice": Command(
        "notify_materials",
        STAFF_ROLES,
        lambda a, b: (a.id, b.get("provided", []), b.get("nonconforming") or {}),
        read_first=True,
    ),
    "supplements": Command(
        "supply_materials", STAFF_ROLES, lambda a, b: (b.get("items", []),)
    ),
    "green-channel": Command(
        "open_green_channel", MANAGERS, lambda a, b: (b.get("reason", ""),)
    ),
    "contract-review": Command(
        "review_contract", STAFF_ROLES, lambda a, b: (a.id, b.get("checks"))
    ),
    "decision": Command(
        "decide",
        STAFF_ROLES,
        lambda a, b: (a.id, b.get("outcome", ""), b.get("details") or {}),
        read_first=True,
    ),
    "resolution": Command(
        "resolve",
        STAFF_ROLES,
        lambda a, b: (a.id, b.get("summary", "")),
        read_first=True,
    ),
    "reopening": Command(
        "reopen", STAFF_ROLES, lambda a, b: (a.id, b.get("reason", ""))
    ),
}


def _command(spec: Command) -> UseCase:
    @use_case(roles=spec.roles, owner=DEMAND if spec.read_first else DEMAND_IN_INTAKE)
    def command(gw, actor: Actor, demand: dict | None, *, demand_id, body, channel):
        """A staff command on the caller's institution's demand."""
        audit = audit_dict(actor, channel, demand_id)
        if spec.check is not None:
            spec.check(gw, actor, body)
        method = getattr(gw.intake, spec.rpc)
        return method(demand_id, *spec.arguments(actor, body), audit_data=audit)

    return command


COMMANDS: dict[str, UseCase] = {name: _command(spec) for name, spec in SPECS.items()}

"""Referrals (8.3.4, 8.3.5): the partner's inbox and commands, the referring
institution's, the manager's rulings; report verification; a partner's
standing (its certificates as referral last heard of them, 4.1); and tasks
that do not start from a customer's demand (5.2.2 b, 6.9).

The referral service checks each referral against the caller (its own
institution, the partner's, or a regulator's read); the gateway checks the
role may send the command at all, and passes the caller as audit data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.gateway import access
from services.gateway.access import MANAGERS, STAFF_ROLES
from services.gateway.usecases.common import web
from services.gateway.usecases.operation import Owner, UseCase, use_case
from services.gateway.usecases.owners import (
    CODE_HOLDER,
    OWN_INSTITUTION,
    REFERRAL,
)
from shared.audit import Actor

PARTNER_SIDE = frozenset({"partner", "staff", "manager"})
REFERRING_SIDE = STAFF_ROLES
# a partner's standing: its own managers and administrator; the platform's
# administrator, who keeps qualifications, and the regulator, for any partner
STANDING_OF_OWN = MANAGERS | {"institution_admin"}
STANDING_OF_ANY = frozenset({"admin", "regulator"})
# opening the green channel is a manager's decision, as for demands (7.4.5)
GREEN_CHANNEL_ROLES = MANAGERS
TASK_FIELDS = ("kind", "item_code", "requester_name", "description", "green_channel")


def _partner(gw, actor: Actor, ids: dict) -> None:
    if actor.role not in STANDING_OF_ANY:
        access.require_same_institution(actor, ids["institution_id"])


PARTNER = Owner(
    "partner",
    "合作机构：本机构的管理人员与机构管理员；平台管理员与监管人员可读任一",
    _partner,
    ("institution_id",),
)


@use_case(roles=PARTNER_SIDE, owner=OWN_INSTITUTION)
def inbox(gw, actor: Actor, _) -> list[dict]:
    """The referrals addressed to the caller's institution, and nothing else."""
    return gw.referral.inbox(actor.institution, audit_data=web(actor))


@use_case(roles=PARTNER_SIDE | {"regulator"}, owner=REFERRAL)
def view(gw, actor: Actor, referral: dict, *, referral_id: str) -> dict:
    return referral


@dataclass(frozen=True)
class Command:
    rpc: str
    roles: frozenset[str]
    arguments: Callable[[dict], tuple]


def _reason(body: dict) -> tuple:
    return (body.get("reason", ""),)


SPECS: dict[str, Command] = {
    # the partner institution (8.3.4, 8.3.5)
    "acceptance": Command("accept", PARTNER_SIDE, lambda b: ()),
    "return": Command("decline", PARTNER_SIDE, _reason),
    "progress": Command(
        "report_progress",
        PARTNER_SIDE,
        lambda b: (b.get("stage", ""), b.get("note", "")),
    ),
    "extension-request": Command(
        "request_extension",
        PARTNER_SIDE,
        lambda b: (b.get("stage", ""), b.get("days"), b.get("reason", "")),
    ),
    "completion": Command("complete", PARTNER_SIDE, lambda b: (b.get("report"),)),
    "feedback": Command(
        "deliver_feedback", PARTNER_SIDE, lambda b: (b.get("summary", ""),)
    ),
    "failure": Command("fail", PARTNER_SIDE, _reason),
    "report-replacement": Command(
        "replace_report", PARTNER_SIDE, lambda b: (b.get("report"),)
    ),
    "report-revocation": Command("revoke_report", PARTNER_SIDE, _reason),
    # the referring side: the demand's institution
    "matching": Command("match", REFERRING_SIDE, lambda b: ()),
    "pick": Command(
        "pick",
        REFERRING_SIDE,
        lambda b: (b.get("institution_id", ""), b.get("reason", "")),
    ),
    "expert": Command(
        "refer_to_expert",
        REFERRING_SIDE,
        lambda b: (b.get("expert_id", ""), b.get("reason", "")),
    ),
    "sending": Command("send", REFERRING_SIDE, lambda b: ()),
    "hold": Command("hold", REFERRING_SIDE, _reason),
    "resumption": Command("resume", REFERRING_SIDE, lambda b: ()),
    "cancellation": Command("cancel", REFERRING_SIDE, _reason),
    # the manager
    "ruling": Command(
        "rule_responsible",
        MANAGERS,
        lambda b: (b.get("institution_id", ""), b.get("reason", "")),
    ),
    # 4.1: the partner lost its qualification for the item while it was open
    "qualification-rerouting": Command("reroute_unqualified", MANAGERS, _reason),
    "extension-decision": Command(
        "decide_extension",
        MANAGERS,
        lambda b: (b.get("approve") is True, b.get("note", "")),
    ),
}


def _command(spec: Command) -> UseCase:
    @use_case(roles=spec.roles, owner=REFERRAL)
    def command(gw, actor: Actor, referral: dict, *, referral_id: str, body: dict):
        """A command on a referral the caller's institution may see; whose it
        is comes before what the body says."""
        method = getattr(gw.referral, spec.rpc)
        return method(referral_id, *spec.arguments(body), audit_data=web(actor))

    return command


COMMANDS: dict[str, UseCase] = {name: _command(spec) for name, spec in SPECS.items()}


@use_case(roles=STANDING_OF_OWN | STANDING_OF_ANY, owner=PARTNER)
def standing(gw, actor: Actor, _, *, institution_id: str, on: str) -> list[dict]:
    """The partner's certificates and each one's status on a day: valid,
    suspended, revoked or expired."""
    return gw.referral.partner_standing(institution_id, on)


@use_case(roles=None, owner=CODE_HOLDER)
def verify_report(gw, actor: Actor, _, *, code: str) -> dict:
    """Anyone with a report's verification code: valid, replaced or revoked."""
    return gw.referral.verify_report(code)


@use_case(roles=STAFF_ROLES, owner=OWN_INSTITUTION)
def open_task(gw, actor: Actor, _, *, body: dict) -> dict:
    """A government-commissioned task (5.2.2 b) or recall support (6.9),
    registered for the caller's institution; matched and sent like any
    referral. Only a manager opens it on the green channel."""
    if body.get("green_channel") is True and actor.role not in GREEN_CHANNEL_ROLES:
        raise access.Forbidden("绿色通道须由管理人员开通")
    form = {key: body[key] for key in TASK_FIELDS if key in body}
    return gw.referral.open_task(form, audit_data=web(actor))

"""Who may see and change a referral (security: object-level checks).

The caller comes from the audit context (``shared.audit.current().actor``),
set by the entrypoint from the caller's identity. The referring side is the
institution of the demand's first responder; the partner side is the
institution (or expert) the referral is addressed to. Anyone else is told
there is no such referral, so nothing of another institution's cases leaks.
Regulators read everything and change nothing.
"""

from __future__ import annotations

from services.referral.domain import Referral
from shared import audit
from shared.audit import Actor
from shared.errors import NotFound, ValidationFailed

ORIGIN, PARTNER, MANAGER = "origin", "partner", "manager"
PLATFORM_ROLES = ("staff", "manager")
READ_ALL_ROLES = ("regulator",)


def is_partner(referral: Referral, actor: Actor) -> bool:
    assignee = referral.assignee
    if not assignee:
        return False
    if assignee["kind"] == "expert" and actor.id == assignee["id"]:
        return True
    return bool(actor.institution) and actor.institution == assignee["institution_id"]


def is_origin(referral: Referral, actor: Actor) -> bool:
    return bool(actor.institution) and actor.institution == referral.origin_institution


def sees_all(referral: Referral) -> bool:
    actor = audit.current().actor
    return actor.role in READ_ALL_ROLES or is_origin(referral, actor)


def require_visible(referral: Referral) -> Actor:
    actor = audit.current().actor
    if not (
        actor.role in READ_ALL_ROLES
        or is_origin(referral, actor)
        or is_partner(referral, actor)
    ):
        raise NotFound(f"referral {referral.id}")
    return actor


def require_side(referral: Referral, side: str) -> Actor:
    """The caller may run a command of ``side`` on this referral."""
    actor = require_visible(referral)
    if side == PARTNER:
        if not is_partner(referral, actor):
            raise ValidationFailed.single("institution", "只有承接机构可以办理此操作")
        return actor
    if not is_origin(referral, actor) or actor.role not in PLATFORM_ROLES:
        raise ValidationFailed.single("role", "只有转办方的服务人员可以办理此操作")
    if side == MANAGER and actor.role != "manager":
        raise ValidationFailed.single("role", "只有服务管理人员可以办理此操作")
    return actor


def require_platform_staff() -> Actor:
    actor = audit.current().actor
    if actor.role not in PLATFORM_ROLES or not actor.institution:
        raise ValidationFailed.single("role", "只有服务人员可以登记委托任务")
    return actor


def require_own_institution(institution_id) -> Actor:
    actor = audit.current().actor
    if actor.role in READ_ALL_ROLES:
        return actor
    if not actor.institution or actor.institution != str(institution_id):
        raise ValidationFailed.single("institution_id", "只能查看本机构收到的转办")
    return actor

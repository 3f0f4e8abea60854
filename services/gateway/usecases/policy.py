"""Service policies (the limits of the standard per institution): read by the
platform's administrator, who changes them, the regulator and the
institution's own managers; each change is an event with a reason, and the
policy a case started under is the one it is judged by."""

from __future__ import annotations

from services.gateway import access
from services.gateway.access import ADMINS, MANAGERS
from services.gateway.usecases.common import web
from services.gateway.usecases.operation import Owner, use_case
from shared.audit import Actor

READERS = ADMINS | MANAGERS | {"regulator"}


def _policy(gw, actor: Actor, ids: dict) -> None:
    if actor.role not in ("admin", "regulator"):
        access.require_same_institution(actor, ids["institution_id"])


POLICY = Owner(
    "service policy",
    "服务政策限值：各机构的，由平台管理员修改；本机构管理人员与监管人员可读",
    _policy,
    ("institution_id",),
)


@use_case(roles=READERS, owner=POLICY)
def policy(gw, actor: Actor, _, *, institution_id: str) -> dict:
    """The limits in force for the institution, each with its label, range,
    default and basis, and the policy's version."""
    return gw.catalog.described_policy(institution_id)


@use_case(roles=ADMINS, owner=POLICY)
def change(gw, actor: Actor, _, *, institution_id: str, form: dict) -> dict:
    """Change some limits, with a reason: a new version from now on."""
    return gw.catalog.change_policy(
        institution_id,
        form.get("limits"),
        form.get("reason", ""),
        audit_data=web(actor),
    )

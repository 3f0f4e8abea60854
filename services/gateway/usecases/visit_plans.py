"""Proactive visit plans (8.2.2): drafted for a period by an institution,
visits planned, moved, cancelled and recorded with the demands they
collected.

A plan is the institution's that drafted it, always the caller's own; the
regulator reads any, the names of the people met masked.
"""

from __future__ import annotations

from services.gateway.access import READERS_OF_CASES, STAFF_ROLES, sees_personal_data
from services.gateway.usecases.common import today, web
from services.gateway.usecases.operation import use_case
from services.gateway.usecases.owners import OWN_INSTITUTION, VISIT_PLAN
from shared.audit import Actor
from shared.errors import ValidationFailed
from shared.privacy import masked_visit_plan


def _shown(actor: Actor, plan: dict) -> dict:
    return plan if sees_personal_data(actor) else masked_visit_plan(plan)


@use_case(roles=STAFF_ROLES, owner=OWN_INSTITUTION)
def draft(gw, actor: Actor, _, *, period) -> dict:
    """A plan for a period (2026, 2026-H1, 2026-Q1, 2026-03), for the
    caller's institution whatever the body says."""
    return gw.intake.draft_visit_plan(actor.institution, period, audit_data=web(actor))


@use_case(roles=READERS_OF_CASES, owner=OWN_INSTITUTION)
def plan_for(gw, actor: Actor, _, *, institution: str, period: str, on: str) -> dict:
    """The caller's institution's plan for a period; the regulator names the
    institution."""
    if actor.role == "regulator":
        if not institution:
            raise ValidationFailed.single("institution", "请指明机构")
    else:
        institution = actor.institution
    return _shown(actor, gw.intake.visit_plan_for(institution, period, on))


@use_case(roles=READERS_OF_CASES, owner=VISIT_PLAN)
def view(gw, actor: Actor, plan: dict, *, plan_id: str, on: str) -> dict:
    """The plan, its completion rate and the visits overdue on a day."""
    if on != today():
        plan = gw.intake.visit_plan(plan_id, on)
    return _shown(actor, plan)


def _visitor(gw, plan: dict, staff_id) -> None:
    """A planned visitor is a staff member of the plan's institution."""
    account = gw.app.account(staff_id) if isinstance(staff_id, str) else None
    if (
        account is None
        or account.role not in STAFF_ROLES
        or account.institution != plan["institution_id"]
    ):
        raise ValidationFailed.single("staff_id", "走访人员应为本机构的服务人员")


@use_case(roles=STAFF_ROLES, owner=VISIT_PLAN)
def plan_visit(gw, actor, plan, *, plan_id, company, address, planned_on, staff_id):
    """A visit to a company; the visitor is the caller unless another staff
    member of the institution is named."""
    visitor = staff_id or actor.id
    _visitor(gw, plan, visitor)
    return gw.intake.plan_visit(
        plan_id, company, address, planned_on, visitor, audit_data=web(actor)
    )


@use_case(roles=STAFF_ROLES, owner=VISIT_PLAN)
def reschedule(gw, actor, plan, *, plan_id, visit_id, planned_on, reason) -> dict:
    return gw.intake.reschedule_visit(
        plan_id, visit_id, planned_on, reason, audit_data=web(actor)
    )


@use_case(roles=STAFF_ROLES, owner=VISIT_PLAN)
def cancel(gw, actor, plan, *, plan_id, visit_id, reason) -> dict:
    return gw.intake.cancel_visit(plan_id, visit_id, reason, audit_data=web(actor))


@use_case(roles=STAFF_ROLES, owner=VISIT_PLAN)
def record(gw, actor, plan, *, plan_id, visit_id, form: dict) -> dict:
    """The caller records the visit, today at the latest; each demand it
    collected is registered on channel "visit" for the plan's institution."""
    return gw.intake.record_visit(
        plan_id, visit_id, form, actor.id, today(), audit_data=web(actor)
    )

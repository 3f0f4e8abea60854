"""The manager's side of evaluation: staff efficiency (9.2.2), the per-service
records (9.1.2) and the improvement items opened from an efficiency finding,
planned, followed by their owner and closed (9.3).

A staff member belongs to the institution of their gateway account, so a
manager reaches the figures, assessments and records of their own
institution's staff only; the regulator reads all of them and writes nothing.
"""

from __future__ import annotations

from services.evaluation.contract import improvement_item_id
from services.gateway import access
from services.gateway.access import MANAGERS, STAFF_ROLES, Forbidden, Hidden
from services.gateway.accounts import ROLES
from services.gateway.usecases.common import web
from services.gateway.usecases.operation import Owner, UseCase, use_case
from services.gateway.usecases.owners import DEMAND, OWN_INSTITUTION
from shared.audit import Actor
from shared.errors import NotFound

READERS = MANAGERS | {"regulator"}


def _institution_of_staff(gw, staff_id: str) -> str:
    """The institution of a staff member's account; unknown people are 404."""
    account = gw.app.account(staff_id)
    if account is None or account.role not in STAFF_ROLES:
        raise Hidden()
    return account.institution


def _staff(gw, actor: Actor, ids: dict) -> None:
    access.require_same_institution(actor, _institution_of_staff(gw, ids["staff_id"]))


def _staff_or_self(gw, actor: Actor, ids: dict) -> None:
    if actor.id != ids["staff_id"]:
        access.require_role(actor, READERS)
        _staff(gw, actor, ids)


def _assessment(gw, actor: Actor, ids: dict) -> dict:
    assessment = gw.evaluation.efficiency_assessment(ids["assessment_id"])
    institution = _institution_of_staff(gw, assessment["staff_id"])
    access.require_same_institution(actor, institution)
    return assessment


def _item(managing: frozenset[str]):
    def reach(gw, actor: Actor, ids: dict) -> dict:
        """An item of the caller's institution; its owner acts on it too."""
        item = gw.evaluation.improvement(ids["item_id"])
        access.require_same_institution(actor, item.get("institution_id", ""))
        if actor.role not in managing and item.get("owner") != actor.id:
            raise Forbidden("只有整改责任人或管理人员可以进行此操作")
        return item

    return reach


def _institution(gw, actor: Actor, ids: dict) -> None:
    access.require_same_institution(actor, ids["institution_id"])


STAFF_MEMBER = Owner(
    "staff member", "服务人员：其账号所属机构的", _staff, ("staff_id",)
)
STAFF_RECORDS = Owner(
    "staff member or self",
    "服务人员本人，或其所属机构的管理人员（监管人员可读）",
    _staff_or_self,
    ("staff_id",),
)
ASSESSMENT = Owner(
    "assessment", "效能评价：被评价人员所属机构的", _assessment, ("assessment_id",)
)
ITEM_READ = Owner(
    "improvement item",
    "整改事项：本机构的管理人员与其责任人（监管人员可读）",
    _item(READERS),
    ("item_id",),
)
ITEM_MANAGED = Owner(
    "managed improvement item",
    "整改事项：本机构的管理人员",
    _item(MANAGERS),
    ("item_id",),
)
ITEM_OWNED = Owner(
    "owned improvement item", "整改事项：其责任人", _item(frozenset()), ("item_id",)
)
INSTITUTION = Owner(
    "institution",
    "机构：调用者本机构（监管人员可读）",
    _institution,
    ("institution_id",),
)


@use_case(roles=READERS, owner=STAFF_MEMBER)
def figures(gw, actor: Actor, _, *, staff_id: str, since: str, until: str) -> dict:
    """The figures as they stand over ``[since, until)`` (aware ISO times)."""
    return gw.evaluation.efficiency_figures(staff_id, since, until)


@use_case(roles=MANAGERS, owner=STAFF_MEMBER)
def assess(gw, actor: Actor, _, *, staff_id: str, since: str, until: str) -> dict:
    """Store the figures of a period as the assessment."""
    return gw.evaluation.assess_efficiency(
        staff_id, since, until, audit_data=web(actor)
    )


@use_case(roles=MANAGERS, owner=OWN_INSTITUTION)
def own_staff(gw, actor: Actor, _, *, since: str, until: str) -> list[dict]:
    """The active staff and managers of the manager's institution, each with
    the figures of ``[since, until)`` (9.2.2), all asked for in one call."""
    staff = [
        account
        for account in gw.app.accounts()
        if account["role"] in STAFF_ROLES
        and account["institution"] == actor.institution
        and account["active"]
    ]
    found = gw.evaluation.efficiency_figures_of_staff(
        [account["username"] for account in staff], since, until
    )
    return [{**account, "figures": found[account["username"]]} for account in staff]


@use_case(roles=READERS, owner=ASSESSMENT)
def assessment(gw, actor: Actor, found: dict, *, assessment_id: str) -> dict:
    return found


@use_case(roles=MANAGERS, owner=ASSESSMENT)
def assessment_sheet(gw, actor: Actor, found: dict, *, assessment_id: str) -> dict:
    """The assessment's page: it, its staff member's name, the colleagues who
    may own an improvement, and the item opened from it, if any (one per
    assessment: its id derives from its source)."""
    account = gw.app.account(found["staff_id"])
    try:
        item_id = improvement_item_id("efficiency", assessment_id)
        improvement = gw.evaluation.improvement(str(item_id))
    except NotFound:
        improvement = None
    return {
        "assessment": found,
        "staff_name": account.display_name if account else found["staff_id"],
        "owners": [
            a
            for a in gw.app.accounts()
            if a["role"] in STAFF_ROLES
            and a["institution"] == actor.institution
            and a["active"]
        ],
        "improvement": improvement,
    }


@use_case(roles=MANAGERS, owner=ASSESSMENT)
def comment(gw, actor: Actor, _, *, assessment_id: str, comment: str) -> dict:
    return gw.evaluation.comment_efficiency(
        assessment_id, comment, audit_data=web(actor)
    )


@use_case(roles=MANAGERS, owner=ASSESSMENT)
def open_improvement(gw, actor: Actor, _, *, assessment_id: str, form: dict) -> dict:
    """An improvement item from this finding (9.3); the institution is the
    manager's, never the body's."""
    fields = {
        k: form[k] for k in ("finding", "owner", "actions", "deadline") if k in form
    }
    fields.update(
        source="efficiency", ref=assessment_id, institution_id=actor.institution
    )
    return gw.evaluation.open_improvement(fields, audit_data=web(actor))


@use_case(roles=READERS | STAFF_ROLES, owner=ITEM_READ)
def improvement(gw, actor: Actor, found: dict, *, item_id: str) -> dict:
    """Managers of the item's institution, its owner, the regulator."""
    return found


def _change(command: str, managing: frozenset[str], owner: Owner) -> UseCase:
    @use_case(roles=managing | STAFF_ROLES, owner=owner)
    def change(gw, actor: Actor, item: dict, *, item_id: str, fields: dict) -> dict:
        return gw.evaluation.change_improvement(
            item_id, command, fields, audit_data=web(actor, item.get("demand_id", ""))
        )

    return change


PLAN = _change("plan", MANAGERS, ITEM_MANAGED)
PROGRESS = _change("record_progress", frozenset(), ITEM_OWNED)
CLOSE = _change("close", MANAGERS, ITEM_MANAGED)


@use_case(roles=frozenset(ROLES), owner=STAFF_RECORDS)
def staff_records(gw, actor: Actor, _, *, staff_id: str, since: str, until: str):
    """Services a staff member ended in ``[since, until)`` and their ratings."""
    return gw.evaluation.records_for_staff(staff_id, since, until)


@use_case(roles=READERS, owner=INSTITUTION)
def institution_records(gw, actor, _, *, institution_id: str, since, until):
    return gw.evaluation.records_for_institution(institution_id, since, until)


@use_case(roles=access.READERS_OF_CASES, owner=DEMAND)
def demand_records(gw, actor: Actor, _, *, demand_id: str) -> dict:
    """Ratings, opinions and complaints of one demand, for its institution."""
    return gw.evaluation.records_for_demand(demand_id)

"""4.1 at every step of a referral: it is sent, signed for, progressed and
completed only while the partner holds a valid qualification for the item on
that day, asked of catalog (the one implementation of the rule) at the moment
of the step. A flag from a suspension arriving later is not enough: the step
itself is refused, and nothing is stored.
"""

from __future__ import annotations

from services.referral.domain import Referral
from shared.errors import ConflictError, ValidationFailed

STEPS = {
    "send": "派发",
    "accept": "签收",
    "progress": "报告办理进度",
    "complete": "办结",
}


def assignee_qualified(referral: Referral, catalog, on_date: str) -> bool:
    """Whether the referral's institution is qualified for its item on the day.

    An expert coordinated instead of an institution (5.2.2 c) holds no
    institutional qualification; catalog checked the expert when picked.
    """
    assignee = referral.assignee
    if not assignee or assignee.get("kind") != "institution":
        return True
    rows = catalog.qualified_institutions(referral.item_code, on_date)
    return any(r["institution_id"] == assignee["institution_id"] for r in rows)


def require_qualified_assignee(
    referral: Referral, catalog, on_date: str, step: str
) -> None:
    """Refuse ``step`` (409, nothing stored) while the partner is unqualified."""
    if assignee_qualified(referral, catalog, on_date):
        return
    name = (referral.assignee or {}).get("name") or "承接机构"
    raise ConflictError(
        f"{name}在{on_date}不具备服务事项{referral.item_code}的有效资质"
        f"（暂停、撤销或过期），不能{STEPS[step]}（4.1）；"
        "请服务管理人员改派或裁定承办机构"
    )


def require_unqualified_assignee(referral: Referral, catalog, on_date: str) -> None:
    """A withdrawal for lost qualification only when it is really lost."""
    if assignee_qualified(referral, catalog, on_date):
        raise ValidationFailed.single(
            "assignee", "承接机构当日仍具备此服务事项的有效资质，无需改派"
        )

"""What a complaint about a case is linked to (9.4, 9.2.2): the complainant
names the case by its progress code, the one key a customer holds (7.4.6), and
the demand, its institution and the staff member who owns it are derived from
that case as intake knows it. Nothing the sender writes can attach a complaint
to another case's timeline, route it to another institution or name a staff
member; a complaint filed without a code is about nobody in particular and is
handled by the front door (``ComplaintsApplication.front_door``).
"""

from __future__ import annotations

from shared.errors import NotFound, ValidationFailed

# what only the case may say of a complaint, never the sender
DERIVED = ("demand_id", "referral_id", "institution_id", "staff_id")


def links_of_case(intake, progress_code) -> dict:
    """The complaint's links from the case with ``progress_code``; an unknown
    code is refused naming the field (nothing is stored)."""
    if not isinstance(progress_code, str) or not progress_code.strip():
        raise ValidationFailed.single("progress_code", "请填写需求的查询码")
    try:
        demand_id = intake.demand_for_progress_code(progress_code.strip().upper())
    except NotFound:
        raise ValidationFailed.single(
            "progress_code", "查询码不正确：请填写您所办理需求的查询码"
        ) from None
    demand = intake.get_demand(demand_id["demand_id"])
    links = {"demand_id": demand["id"], "institution_id": demand["institution"]}
    if demand.get("owner"):
        links["staff_id"] = demand["owner"]
    return links


def complaint_form(form: dict, intake) -> tuple[dict, bool]:
    """The form as received (links dropped) and, given a progress code, the
    case's links; returns (form, verified)."""
    if not isinstance(form, dict):
        raise ValidationFailed.single("form", "请填写投诉内容")
    code = form.get("progress_code")
    kept = {k: v for k, v in form.items() if k not in (*DERIVED, "progress_code")}
    if not code:
        return kept, False
    return {**kept, **links_of_case(intake, code)}, True

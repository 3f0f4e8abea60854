"""4.1 for service in-house: an institution serves an item itself only while it
holds a valid qualification covering the item on that day, as catalog answers
(the front door is a catalog institution too, named by its code). Checked when
the triage decision is taken; refused (409) with nothing stored otherwise.
"""

from __future__ import annotations

from shared import calendar
from shared.errors import ConflictError


def holds(rows: list[dict], institution: str) -> bool:
    """Catalog's qualified rows name the institution by id or by code."""
    return any(
        institution in (r["institution_id"], r["institution_code"]) for r in rows
    )


def require_own_qualification(demand: dict, catalog, on_date: str = "") -> None:
    """Every item of the demand must be covered for its institution today."""
    on_date = on_date or calendar.today().isoformat()  # the one clock, Beijing
    institution = demand["institution"]
    missing = [
        need["item_code"]
        for need in demand["needs"]
        if not institution
        or not holds(
            catalog.qualified_institutions(need["item_code"], on_date), institution
        )
    ]
    if missing:
        raise ConflictError(
            f"本机构在{on_date}不具备服务事项{'、'.join(missing)}的有效资质，"
            "不能自主服务（4.1）；请转办具备资质的机构"
        )

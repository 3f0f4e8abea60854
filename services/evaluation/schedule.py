"""The periodic reviews a manager owes, on a schedule: the written half-year
summary of each institution (9.1.3) and the periodic staff efficiency review
(9.2.2). Each is due a number of days after its period ends (the limits of
the institution's service policy in force, ``services.catalog.contract`` for
the defaults); one not done by then is overdue: it shows on the manager's
board, and the sweep's gauge raises the ``QiReviewOverdue`` alert
(deploy/prometheus/rules).

Done means: the half-year summary of the period signed off; an efficiency
assessment made by a manager of the institution since the review period began.
An institution is due reviews once evaluation has a case of it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from services.catalog.contract import POLICY_DEFAULTS
from services.evaluation.tables import cases, reviews
from shared import calendar
from shared.calendar import SHANGHAI
from shared.metrics import gauge

REVIEW = reviews.c
KINDS = {"half_year": "半年工作总结（9.1.3）", "efficiency": "人员效能评价（9.2.2）"}
OVERDUE = gauge(
    "evaluation",
    "reviews_overdue",
    "Institutions whose periodic review is overdue, by kind (last sweep).",
    ("kind",),
)


def today() -> date:
    """Today in Beijing, on the platform's one clock (``shared.calendar``)."""
    return calendar.today()


def _month_start(year: int, month: int) -> date:
    while month > 12:
        year, month = year + 1, month - 12
    return date(year, month, 1)


def last_half(today: date) -> tuple[str, date, date]:
    """The last half-year that has ended: (period, first day, last day)."""
    if today.month > 6:
        return f"{today.year}-H1", date(today.year, 1, 1), date(today.year, 6, 30)
    year = today.year - 1
    return f"{year}-H2", date(year, 7, 1), date(year, 12, 31)


def last_review_period(today: date, months: int) -> tuple[str, date, date]:
    """The last period of ``months`` months (aligned on 1 January) that ended."""
    index = (today.month - 1) // months  # the running period of this year
    year = today.year
    if index == 0:
        year, index = year - 1, 12 // months - 1
    else:
        index -= 1
    start = _month_start(year, index * months + 1)
    end = _month_start(year, (index + 1) * months + 1) - timedelta(days=1)
    return f"{year}-P{index + 1}/{12 // months}", start, end


def due_reviews(kernel, institution: str, today: date, limits=None) -> list[dict]:
    """The reviews of the last ended periods, each with its due date and
    whether it is done and overdue."""
    limits = {**POLICY_DEFAULTS, **(limits or {})}
    found = []
    period, _, end = last_half(today)
    due = end + timedelta(days=limits["half_year_summary_due_days"])
    done = kernel.scalar(
        select(REVIEW.done_at).where(
            REVIEW.kind == "half_year",
            REVIEW.institution_id == institution,
            REVIEW.period == period,
            REVIEW.done_at != "",
        )
    )
    found.append(_row("half_year", period, due, bool(done), today))
    period, start, end = last_review_period(today, limits["efficiency_review_months"])
    due = end + timedelta(days=limits["efficiency_review_due_days"])
    since = datetime.combine(start, datetime.min.time(), SHANGHAI)
    done = kernel.scalar(
        select(REVIEW.review_id).where(
            REVIEW.kind == "efficiency",
            REVIEW.institution_id == institution,
            REVIEW.done_at >= since.astimezone(UTC).isoformat(),
        )
    )
    found.append(_row("efficiency", period, due, bool(done), today))
    return found


def _row(kind: str, period: str, due: date, done: bool, today: date) -> dict:
    return {
        "kind": kind,
        "label": KINDS[kind],
        "period": period,
        "due_on": due.isoformat(),
        "done": done,
        "overdue": not done and today > due,
    }


def institutions(kernel) -> list[str]:
    """Every institution evaluation has a case of."""
    rows = kernel.query(
        select(cases.c.institution_id)
        .where(cases.c.institution_id != "")
        .group_by(cases.c.institution_id)
    )
    return [r["institution_id"] for r in rows]


def sweep(kernel, today: date, limits_of=lambda institution: None) -> dict:
    """Overdue reviews of every institution ({kind: institutions}), each by
    its policy's limits (``limits_of``); the gauge counts them by kind."""
    overdue: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for institution in institutions(kernel):
        for row in due_reviews(kernel, institution, today, limits_of(institution)):
            if row["overdue"]:
                overdue[row["kind"]].append(institution)
    for kind, found in overdue.items():
        OVERDUE.labels(kind=kind).set(len(found))
    return overdue

"""Figures counted from evaluation's read model: a staff member's efficiency
over a period (9.2.2) and an institution's half-year summary (9.1.3).

Moments in the read model are UTC ISO text; periods are ``[since, until)``.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from statistics import mean

from sqlalchemy import func, select

from services.evaluation.contract import DIMENSIONS, LEVELS
from services.evaluation.projections import utc
from services.evaluation.rules import UNSATISFIED
from services.evaluation.tables import (
    actions,
    cases,
    complaints,
    improvements,
    referrals,
    surveys,
)
from shared.calendar import SHANGHAI, WorkingCalendar

ACTION, CASE, COMPLAINT = actions.c, cases.c, complaints.c
ITEM, REFERRAL, SURVEY = improvements.c, referrals.c, surveys.c
UPHELD = ("upheld", "partly_upheld")
# complaints publish no category, so integrity is counted from the upheld
# verified complaints about the staff member's cases (see ``integrity_basis``):
# filed with the case's progress code, the staff member derived from the case,
# so no anonymous sender can name anyone
INTEGRITY_BASIS = (
    "仅统计凭需求查询码提交、由平台按该需求认定被投诉人员为该人员的投诉"
    "（投诉人不能自行指定人员）；其中已确定纠正措施并认定成立或部分成立的"
    "计为成立投诉。投诉服务未发布投诉类别（是否涉及廉洁）"
)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _avg(values: list[float]) -> float | None:
    return round(mean(values), 2) if values else None


def satisfaction(rows: list[dict]) -> dict:
    """Average score (非常满意 5 … 非常不满意 1), distribution by level, and
    per dimension, of rated surveys."""
    rated = [r for r in rows if r["overall"]]
    distribution = Counter(r["overall"] for r in rated)
    dimensions = {}
    for key in DIMENSIONS:
        scores = [LEVELS[json.loads(r["dimensions"])[key]] for r in rated]
        dimensions[key] = _avg(scores)
    return {
        "rated": len(rated),
        "average": _avg([LEVELS[r["overall"]] for r in rated]),
        "distribution": {level: distribution.get(level, 0) for level in LEVELS},
        "satisfied_rate": _rate(
            sum(1 for r in rated if r["overall"] not in UNSATISFIED), len(rated)
        ),
        "dimensions": dimensions,
    }


def efficiency(kernel, calendar: WorkingCalendar, staff_id, since, until) -> dict:
    """Professionalism, timeliness, integrity and satisfaction of one staff
    member in ``[since, until)``, from the facts the read model holds."""
    return efficiency_of_staff(kernel, calendar, [staff_id], since, until)[staff_id]


def efficiency_of_staff(
    kernel, calendar: WorkingCalendar, staff_ids, since, until
) -> dict[str, dict]:
    """``efficiency`` of each of ``staff_ids`` in ``[since, until)`` (9.2.2),
    by staff id: five statements for them all, whatever their number (the
    manager's board asks for a whole institution's staff at once), each
    member's figures counted from their own rows exactly as for one."""
    start, end = utc(since), utc(until)
    wanted = list(dict.fromkeys(staff_ids))

    def within(column):  # [since, until)
        return (column >= start) & (column < end)

    def by_staff(rows: list[dict], key: str) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {staff: [] for staff in wanted}
        for row in rows:
            found[row.pop(key)].append(row)
        return found

    if not wanted:
        return {}
    actions = by_staff(
        kernel.query(
            select(ACTION.staff_id, ACTION.kind, ACTION.passed).where(
                ACTION.staff_id.in_(wanted), within(ACTION.at)
            )
        ),
        "staff_id",
    )
    taken = by_staff(
        kernel.query(
            select(CASE.first_taker, CASE.registered_at, CASE.taken_at).where(
                CASE.first_taker.in_(wanted),
                within(CASE.taken_at),
                CASE.registered_at != "",
            )
        ),
        "first_taker",
    )
    referrals = by_staff(
        kernel.query(
            select(CASE.owner, REFERRAL.on_time)
            .join(cases, CASE.case_id == REFERRAL.case_id)
            .where(CASE.owner.in_(wanted), within(REFERRAL.completed_at))
        ),
        "owner",
    )
    complaints_naming = by_staff(
        kernel.query(
            select(COMPLAINT.staff_id, COMPLAINT.outcome).where(
                COMPLAINT.staff_id.in_(wanted),
                COMPLAINT.verified == 1,
                within(COMPLAINT.received_at),
            )
        ),
        "staff_id",
    )
    rated = by_staff(
        kernel.query(
            select(SURVEY.staff_id, SURVEY.overall, SURVEY.dimensions).where(
                SURVEY.staff_id.in_(wanted),
                SURVEY.status == "rated",
                within(SURVEY.rated_at),
            )
        ),
        "staff_id",
    )
    return {
        staff: _efficiency(
            calendar,
            staff,
            start,
            end,
            actions[staff],
            taken[staff],
            referrals[staff],
            complaints_naming[staff],
            rated[staff],
        )
        for staff in wanted
    }


def _efficiency(
    calendar: WorkingCalendar,
    staff_id,
    start,
    end,
    actions,
    taken,
    referrals,
    complaints_naming,
    rated,
) -> dict:
    """One member's figures from their rows of each of the five statements."""
    reviews = [a for a in actions if a["kind"] == "review"]
    passed = sum(a["passed"] for a in reviews)
    response_hours = [
        calendar.working_hours_between(
            datetime.fromisoformat(r["registered_at"]),
            datetime.fromisoformat(r["taken_at"]),
        )
        for r in taken
    ]
    on_time = sum(r["on_time"] for r in referrals)
    return {
        "staff_id": staff_id,
        "since": start,
        "until": end,
        "professionalism": {
            "contract_reviews": len(reviews),
            "contract_reviews_passed": passed,
            "contract_review_pass_rate": _rate(passed, len(reviews)),
            "notice_violations": sum(1 for a in actions if a["kind"] == "violation"),
        },
        "timeliness": {
            "referrals_completed": len(referrals),
            "referrals_on_time": on_time,
            "sla_hit_rate": _rate(on_time, len(referrals)),
            "first_responses": len(response_hours),
            "first_response_working_hours": _avg(response_hours),
        },
        "integrity": {
            "complaints_naming_staff": len(complaints_naming),
            "upheld_complaints": sum(
                1 for c in complaints_naming if c["outcome"] in UPHELD
            ),
            "integrity_basis": INTEGRITY_BASIS,
        },
        "satisfaction": satisfaction(rated),
    }


def half_year_bounds(year: int, half: int) -> tuple[datetime, datetime]:
    """1 Jan–30 Jun or 1 Jul–31 Dec, Beijing time, as ``[since, until)``."""
    if half == 1:
        return datetime(year, 1, 1, tzinfo=SHANGHAI), datetime(
            year, 7, 1, tzinfo=SHANGHAI
        )
    return datetime(year, 7, 1, tzinfo=SHANGHAI), datetime(
        year + 1, 1, 1, tzinfo=SHANGHAI
    )


def half_year(kernel, calendar: WorkingCalendar, institution_id, year, half) -> dict:
    """The figures of an institution's half-year summary (9.1.3)."""
    since, until = half_year_bounds(year, half)
    start, end = utc(since), utc(until)

    def within(column):  # [since, until)
        return (column >= start) & (column < end)

    demands = kernel.query(
        select(CASE.channel, CASE.outcome, CASE.registered_at, CASE.taken_at).where(
            CASE.institution_id == institution_id, within(CASE.registered_at)
        )
    )
    response_hours = [
        calendar.working_hours_between(
            datetime.fromisoformat(d["registered_at"]),
            datetime.fromisoformat(d["taken_at"]),
        )
        for d in demands
        if d["taken_at"]
    ]
    # a referral counts for the case's institution, else for its own
    institution = func.coalesce(
        func.nullif(CASE.institution_id, ""), REFERRAL.institution_id
    )
    referrals = kernel.query(
        select(REFERRAL.on_time)
        .outerjoin(cases, CASE.case_id == REFERRAL.case_id)
        .where(institution == institution_id, within(REFERRAL.completed_at))
    )
    surveyed = kernel.query(
        select(SURVEY.status, SURVEY.overall, SURVEY.dimensions).where(
            SURVEY.institution_id == institution_id, within(SURVEY.ended_at)
        )
    )
    complained = kernel.query(
        select(COMPLAINT.outcome).where(
            COMPLAINT.institution_id == institution_id, within(COMPLAINT.received_at)
        )
    )
    items = kernel.query(
        select(
            ITEM.source,
            ITEM.finding,
            ITEM.owner,
            ITEM.actions,
            ITEM.deadline,
            ITEM.status,
            ITEM.escalated,
        )
        .where(ITEM.institution_id == institution_id, within(ITEM.opened_at))
        .order_by(ITEM.opened_at, ITEM.item_id)
    )
    on_time = sum(r["on_time"] for r in referrals)
    statuses = Counter(s["status"] for s in surveyed)
    return {
        "institution_id": institution_id,
        "year": year,
        "half": half,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "demands": {
            "registered": len(demands),
            "by_channel": dict(sorted(Counter(d["channel"] for d in demands).items())),
            "by_outcome": dict(
                sorted(Counter(d["outcome"] or "open" for d in demands).items())
            ),
            "first_response_working_hours": _avg(response_hours),
        },
        "sla": {
            "referrals_completed": len(referrals),
            "on_time": on_time,
            "hit_rate": _rate(on_time, len(referrals)),
        },
        "satisfaction": {
            "surveys_issued": len(surveyed),
            "surveys_expired": statuses.get("expired", 0),
            "response_rate": _rate(statuses.get("rated", 0), len(surveyed)),
            **satisfaction([s for s in surveyed if s["status"] == "rated"]),
        },
        "complaints": {
            "received": len(complained),
            "upheld": sum(1 for c in complained if c["outcome"] in UPHELD),
        },
        "improvements": {
            "opened": len(items),
            "closed": sum(1 for i in items if i["status"] == "closed"),
            "escalated": sum(1 for i in items if i["escalated"]),
            "items": [
                {**i, "actions": json.loads(i["actions"]), "escalated": i["escalated"]}
                for i in items
            ],
        },
    }

"""Figures counted from evaluation's read model: a staff member's efficiency
over a period (9.2.2) and an institution's half-year summary (9.1.3).

Moments in the read model are UTC ISO text; periods are ``[since, until)``.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from statistics import mean

from services.evaluation.projections import utc
from services.evaluation.rules import DIMENSIONS, LEVELS, UNSATISFIED
from shared.calendar import SHANGHAI, WorkingCalendar

UPHELD = ("upheld", "partly_upheld")
# complaints publish no category, so integrity is counted from every upheld
# complaint naming the staff member (see ``integrity_basis``)
INTEGRITY_BASIS = (
    "投诉服务未发布投诉类别（是否涉及廉洁），也未单独发布处理结论；"
    "此处统计点名该人员、且已确定纠正措施并认定成立或部分成立的投诉"
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
    start, end = utc(since), utc(until)
    window = (staff_id, start, end)
    actions = kernel.query(
        "SELECT kind, passed FROM ev_actions WHERE staff_id=%s AND at>=%s AND at<%s",
        window,
    )
    reviews = [a for a in actions if a["kind"] == "review"]
    passed = sum(a["passed"] for a in reviews)
    taken = kernel.query(
        "SELECT registered_at, taken_at FROM ev_cases WHERE first_taker=%s "
        "AND taken_at>=%s AND taken_at<%s AND registered_at<>''",
        window,
    )
    response_hours = [
        calendar.working_hours_between(
            datetime.fromisoformat(r["registered_at"]),
            datetime.fromisoformat(r["taken_at"]),
        )
        for r in taken
    ]
    referrals = kernel.query(
        "SELECT r.on_time FROM ev_referrals r JOIN ev_cases c ON c.case_id=r.case_id "
        "WHERE c.owner=%s AND r.completed_at>=%s AND r.completed_at<%s",
        window,
    )
    complaints = kernel.query(
        "SELECT outcome FROM ev_complaints WHERE staff_id=%s "
        "AND received_at>=%s AND received_at<%s",
        window,
    )
    surveys = kernel.query(
        "SELECT overall, dimensions FROM ev_surveys WHERE staff_id=%s "
        "AND status='rated' AND rated_at>=%s AND rated_at<%s",
        window,
    )
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
            "complaints_naming_staff": len(complaints),
            "upheld_complaints": sum(1 for c in complaints if c["outcome"] in UPHELD),
            "integrity_basis": INTEGRITY_BASIS,
        },
        "satisfaction": satisfaction(surveys),
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
    window = (institution_id, utc(since), utc(until))
    demands = kernel.query(
        "SELECT channel, outcome, registered_at, taken_at FROM ev_cases "
        "WHERE institution_id=%s AND registered_at>=%s AND registered_at<%s",
        window,
    )
    response_hours = [
        calendar.working_hours_between(
            datetime.fromisoformat(d["registered_at"]),
            datetime.fromisoformat(d["taken_at"]),
        )
        for d in demands
        if d["taken_at"]
    ]
    referrals = kernel.query(
        "SELECT r.on_time FROM ev_referrals r LEFT JOIN ev_cases c "
        "ON c.case_id=r.case_id WHERE COALESCE(NULLIF(c.institution_id, ''), "
        "r.institution_id)=%s AND r.completed_at>=%s AND r.completed_at<%s",
        window,
    )
    surveys = kernel.query(
        "SELECT status, overall, dimensions FROM ev_surveys WHERE institution_id=%s "
        "AND ended_at>=%s AND ended_at<%s",
        window,
    )
    complaints = kernel.query(
        "SELECT outcome FROM ev_complaints WHERE institution_id=%s "
        "AND received_at>=%s AND received_at<%s",
        window,
    )
    items = kernel.query(
        "SELECT source, finding, owner, actions, deadline, status, escalated "
        "FROM ev_improvements WHERE institution_id=%s AND opened_at>=%s "
        "AND opened_at<%s ORDER BY opened_at, item_id",
        window,
    )
    on_time = sum(r["on_time"] for r in referrals)
    statuses = Counter(s["status"] for s in surveys)
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
            "surveys_issued": len(surveys),
            "surveys_expired": statuses.get("expired", 0),
            "response_rate": _rate(statuses.get("rated", 0), len(surveys)),
            **satisfaction([s for s in surveys if s["status"] == "rated"]),
        },
        "complaints": {
            "received": len(complaints),
            "upheld": sum(1 for c in complaints if c["outcome"] in UPHELD),
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

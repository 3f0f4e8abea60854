"""Per-service records (9.1.2): opinions and satisfaction of each service,
by demand, by staff member and by institution; lists of open follow-ups.

Read from the projection (caught up first). No customer identity is held
here: evaluation only ever receives ids.
"""

from __future__ import annotations

import json

from services.evaluation.figures import satisfaction
from services.evaluation.projections import utc
from services.evaluation.rules import SURVEY_SOURCES, SURVEY_STATUS, aware

SURVEY_COLUMNS = (
    "survey_id, source, case_id, institution_id, staff_id, ended_at, due_at, "
    "status, overall, dimensions, comments, rated_at"
)


def _survey_row(row: dict) -> dict:
    return {
        **row,
        "dimensions": json.loads(row["dimensions"]),
        "source_label": SURVEY_SOURCES[row["source"]],
        "status_label": SURVEY_STATUS[row["status"]],
    }


def _records(app, where: str, params: tuple) -> dict:
    app.view.catch_up()
    rows = app.kernel.query(
        f"SELECT {SURVEY_COLUMNS} FROM ev_surveys WHERE {where} "
        "ORDER BY ended_at, survey_id",
        params,
    )
    return {
        "services": [_survey_row(r) for r in rows],
        "opinions": [
            {"survey_id": r["survey_id"], "comments": r["comments"]}
            for r in rows
            if r["comments"]
        ],
        "satisfaction": satisfaction([r for r in rows if r["status"] == "rated"]),
    }


def _period(since, until) -> tuple[str, str]:
    return utc(aware(since, "since")), utc(aware(until, "until"))


def for_demand(app, demand_id: str) -> dict:
    """The record of one demand: its services' ratings and opinions, the
    complaints about it and what followed."""
    found = _records(app, "case_id=%s", (str(demand_id),))
    case = app.kernel.query("SELECT * FROM ev_cases WHERE case_id=%s", (demand_id,))
    return {
        "demand_id": demand_id,
        "case": case[0] if case else None,
        **found,
        "complaints": app.kernel.query(
            "SELECT complaint_id, received_at, outcome FROM ev_complaints "
            "WHERE case_id=%s ORDER BY received_at",
            (demand_id,),
        ),
        "call_backs": app.kernel.query(
            "SELECT call_back_id, survey_id, due_at, status FROM ev_call_backs "
            "WHERE case_id=%s ORDER BY due_at",
            (demand_id,),
        ),
        "improvements": improvements(app, demand_id=demand_id),
    }


def for_staff(app, staff_id: str, since, until) -> dict:
    """Services a staff member ended in ``[since, until)`` and their ratings."""
    start, end = _period(since, until)
    found = _records(
        app, "staff_id=%s AND ended_at>=%s AND ended_at<%s", (staff_id, start, end)
    )
    return {"staff_id": staff_id, "since": start, "until": end, **found}


def for_institution(app, institution_id: str, since, until) -> dict:
    start, end = _period(since, until)
    found = _records(
        app,
        "institution_id=%s AND ended_at>=%s AND ended_at<%s",
        (institution_id, start, end),
    )
    return {"institution_id": institution_id, "since": start, "until": end, **found}


def improvements(app, institution_id="", status="", demand_id="") -> list[dict]:
    app.view.catch_up()
    rows = app.kernel.query(
        "SELECT * FROM ev_improvements WHERE (%s='' OR institution_id=%s) "
        "AND (%s='' OR status=%s) AND (%s='' OR demand_id=%s) "
        "ORDER BY opened_at, item_id",
        (institution_id, institution_id, status, status, demand_id, demand_id),
    )
    return [{**r, "actions": json.loads(r["actions"])} for r in rows]


def call_backs(app, institution_id="", status="open") -> list[dict]:
    app.view.catch_up()
    return app.kernel.query(
        "SELECT * FROM ev_call_backs WHERE (%s='' OR institution_id=%s) "
        "AND (%s='' OR status=%s) ORDER BY due_at, call_back_id",
        (institution_id, institution_id, status, status),
    )

"""Per-service records (9.1.2): opinions and satisfaction of each service,
by demand, by staff member and by institution; lists of open follow-ups.

Read from the projection (caught up first). No customer identity is held
here: evaluation only ever receives ids.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from services.evaluation.figures import satisfaction
from services.evaluation.projections import utc
from services.evaluation.rules import SURVEY_SOURCES, SURVEY_STATUS
from services.evaluation.tables import (
    call_backs,
    cases,
    complaints,
    improvements,
    surveys,
)
from shared.validation import aware

SURVEY = surveys.c
ITEM = improvements.c
CALL_BACK = call_backs.c
CASE = cases.c
COMPLAINT = complaints.c


def _survey_row(row: dict) -> dict:
    return {
        **row,
        "dimensions": json.loads(row["dimensions"]),
        "source_label": SURVEY_SOURCES[row["source"]],
        "status_label": SURVEY_STATUS[row["status"]],
    }


def _records(app, *where) -> dict:
    app.view.catch_up()
    rows = app.kernel.query(
        select(surveys).where(*where).order_by(SURVEY.ended_at, SURVEY.survey_id)
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
    found = _records(app, SURVEY.case_id == str(demand_id))
    case = app.kernel.query(select(cases).where(CASE.case_id == demand_id))
    return {
        "demand_id": demand_id,
        "case": case[0] if case else None,
        **found,
        "complaints": app.kernel.query(
            select(COMPLAINT.complaint_id, COMPLAINT.received_at, COMPLAINT.outcome)
            .where(COMPLAINT.case_id == demand_id)
            .order_by(COMPLAINT.received_at)
        ),
        "call_backs": app.kernel.query(
            select(
                CALL_BACK.call_back_id,
                CALL_BACK.survey_id,
                CALL_BACK.due_at,
                CALL_BACK.status,
            )
            .where(CALL_BACK.case_id == demand_id)
            .order_by(CALL_BACK.due_at)
        ),
        "improvements": improvements(app, demand_id=demand_id),
    }


def for_staff(app, staff_id: str, since, until) -> dict:
    """Services a staff member ended in ``[since, until)`` and their ratings."""
    start, end = _period(since, until)
    found = _records(
        app,
        SURVEY.staff_id == staff_id,
        SURVEY.ended_at >= start,
        SURVEY.ended_at < end,
    )
    return {"staff_id": staff_id, "since": start, "until": end, **found}


def for_institution(app, institution_id: str, since, until) -> dict:
    start, end = _period(since, until)
    found = _records(
        app,
        SURVEY.institution_id == institution_id,
        SURVEY.ended_at >= start,
        SURVEY.ended_at < end,
    )
    return {"institution_id": institution_id, "since": start, "until": end, **found}


def improvements(app, institution_id="", status="", demand_id="") -> list[dict]:
    app.view.catch_up()
    where = [
        column == value
        for column, value in (
            (ITEM.institution_id, institution_id),
            (ITEM.status, status),
            (ITEM.demand_id, demand_id),
        )
        if value
    ]
    rows = app.kernel.query(
        select(*ITEM).where(*where).order_by(ITEM.opened_at, ITEM.item_id)
    )
    return [{**r, "actions": json.loads(r["actions"])} for r in rows]


def call_backs(app, institution_id="", status="open") -> list[dict]:
    app.view.catch_up()
    where = [
        column == value
        for column, value in (
            (CALL_BACK.institution_id, institution_id),
            (CALL_BACK.status, status),
        )
        if value
    ]
    return app.kernel.query(
        select(*CALL_BACK)
        .where(*where)
        .order_by(CALL_BACK.due_at, CALL_BACK.call_back_id)
    )

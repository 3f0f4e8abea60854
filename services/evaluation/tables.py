"""Evaluation's read-model tables, declared once: the facts of each case,
surveys, call-backs and improvement items (``projections.EvaluationView``
fills them; the figures and records are counted from them).

Every moment is stored as UTC ISO text, so text order is time order.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, Table, Text

metadata = MetaData()


def _text(name: str, **kwargs) -> Column:
    """A text column, NOT NULL DEFAULT '' unless said otherwise."""
    kwargs.setdefault("nullable", False)
    if not kwargs.get("primary_key"):
        kwargs.setdefault("server_default", "")
    return Column(name, Text, **kwargs)


def _required(name: str) -> Column:
    return Column(name, Text, nullable=False)


cases = Table(
    "ev_cases",
    metadata,
    _text("case_id", primary_key=True),
    *(
        _text(name)
        for name in (
            "institution_id",
            "channel",
            "registered_at",
            "outcome",
            "resolved_at",
            "resolved_by",
            "first_taker",
            "taken_at",
            "owner",
        )
    ),
)
actions = Table(
    "ev_actions",
    metadata,
    _text("fact_id", primary_key=True),
    *(_required(n) for n in ("case_id", "staff_id", "kind")),
    Column("passed", Integer, nullable=False),
    _required("at"),
)
referrals = Table(
    "ev_referrals",
    metadata,
    _text("referral_id", primary_key=True),
    *(_required(n) for n in ("case_id", "institution_id", "completed_at")),
    Column("on_time", Integer, nullable=False),
)
complaints = Table(
    "ev_complaints",
    metadata,
    _text("complaint_id", primary_key=True),
    _required("case_id"),
    *(_text(n) for n in ("institution_id", "staff_id", "received_at", "outcome")),
    # 1: filed with the case's progress code, links derived from the case
    Column("verified", Integer, nullable=False, server_default="0"),
)
surveys = Table(
    "ev_surveys",
    metadata,
    _text("survey_id", primary_key=True),
    *(
        _required(n)
        for n in (
            "source",
            "case_id",
            "institution_id",
            "staff_id",
            "ended_at",
            "due_at",
            "status",
        )
    ),
    _text("overall"),
    _text("dimensions", server_default="{}"),
    _text("comments"),
    _text("rated_at"),
)
call_backs = Table(
    "ev_call_backs",
    metadata,
    _text("call_back_id", primary_key=True),
    *(
        _required(n)
        for n in ("survey_id", "case_id", "institution_id", "staff_id", "due_at")
    ),
    _required("status"),
)
improvements = Table(
    "ev_improvements",
    metadata,
    _text("item_id", primary_key=True),
    *(
        _required(n)
        for n in (
            "source",
            "ref",
            "institution_id",
            "staff_id",
            "demand_id",
            "finding",
            "owner",
            "actions",
            "deadline",
            "opened_at",
            "status",
        )
    ),
    Column("escalated", Integer, nullable=False, server_default="0"),
    _text("closed_at"),
)
# the periodic reviews done (9.1.3 half-year summaries signed off, 9.2.2
# efficiency assessments), by institution: what ``schedule`` counts as done
reviews = Table(
    "ev_reviews",
    metadata,
    _text("review_id", primary_key=True),
    _required("kind"),
    _required("institution_id"),
    _text("period"),
    _text("done_at"),  # "" while a summary is only drafted
)
# What the figures, the board and a case's records look rows up by: without
# them each read scans its whole table, which grows with the year (issue 22:
# a manager's board counts every staff member's rows of the half-year).
for _table, *_columns in (
    (cases, "first_taker"),
    (cases, "owner"),
    (cases, "institution_id", "registered_at"),
    (actions, "staff_id", "at"),
    (referrals, "case_id"),
    (complaints, "case_id"),
    (complaints, "staff_id"),
    (surveys, "case_id"),
    (surveys, "staff_id"),
    (surveys, "institution_id", "ended_at"),
    (call_backs, "case_id"),
):
    Index(f"ix_{_table.name}_{'_'.join(_columns)}", *(_table.c[c] for c in _columns))

TABLES = (
    cases,
    actions,
    referrals,
    complaints,
    surveys,
    call_backs,
    improvements,
    reviews,
)

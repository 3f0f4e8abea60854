"""Evaluation's read model, fed by its own stored events: the facts of each
case, surveys, call-backs and improvement items, in tables the figures are
counted from (9.1.2, 9.2.2, 9.1.3). Rebuildable at any time.

Every moment is stored as UTC ISO text, so text order is time order.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.evaluation.domain import CallBack, ImprovementItem, Survey
from services.evaluation.records import CaseRecord
from shared.projection import Projection


def utc(moment) -> str:
    """UTC ISO text of an aware datetime or ISO text ("" stays "")."""
    if not moment:
        return ""
    if not isinstance(moment, datetime):
        moment = datetime.fromisoformat(str(moment))
    return moment.astimezone(UTC).isoformat()


class EvaluationView(Projection):
    name = "evaluation_view"
    table_names = (
        "ev_cases",
        "ev_actions",
        "ev_referrals",
        "ev_complaints",
        "ev_surveys",
        "ev_call_backs",
        "ev_improvements",
    )
    tables = (
        """CREATE TABLE IF NOT EXISTS ev_cases (
            case_id TEXT PRIMARY KEY, institution_id TEXT NOT NULL DEFAULT '',
            channel TEXT NOT NULL DEFAULT '', registered_at TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '', resolved_at TEXT NOT NULL DEFAULT '',
            resolved_by TEXT NOT NULL DEFAULT '', first_taker TEXT NOT NULL DEFAULT '',
            taken_at TEXT NOT NULL DEFAULT '', owner TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE IF NOT EXISTS ev_actions (
            fact_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, staff_id TEXT NOT NULL,
            kind TEXT NOT NULL, passed INTEGER NOT NULL, at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS ev_referrals (
            referral_id TEXT PRIMARY KEY, case_id TEXT NOT NULL,
            institution_id TEXT NOT NULL, completed_at TEXT NOT NULL,
            on_time INTEGER NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS ev_complaints (
            complaint_id TEXT PRIMARY KEY, case_id TEXT NOT NULL,
            institution_id TEXT NOT NULL DEFAULT '', staff_id TEXT NOT NULL DEFAULT '',
            received_at TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE IF NOT EXISTS ev_surveys (
            survey_id TEXT PRIMARY KEY, source TEXT NOT NULL, case_id TEXT NOT NULL,
            institution_id TEXT NOT NULL, staff_id TEXT NOT NULL,
            ended_at TEXT NOT NULL, due_at TEXT NOT NULL, status TEXT NOT NULL,
            overall TEXT NOT NULL DEFAULT '', dimensions TEXT NOT NULL DEFAULT '{}',
            comments TEXT NOT NULL DEFAULT '', rated_at TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE IF NOT EXISTS ev_call_backs (
            call_back_id TEXT PRIMARY KEY, survey_id TEXT NOT NULL,
            case_id TEXT NOT NULL, institution_id TEXT NOT NULL,
            staff_id TEXT NOT NULL, due_at TEXT NOT NULL, status TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS ev_improvements (
            item_id TEXT PRIMARY KEY, source TEXT NOT NULL, ref TEXT NOT NULL,
            institution_id TEXT NOT NULL, staff_id TEXT NOT NULL,
            demand_id TEXT NOT NULL, finding TEXT NOT NULL, owner TEXT NOT NULL,
            actions TEXT NOT NULL, deadline TEXT NOT NULL, opened_at TEXT NOT NULL,
            status TEXT NOT NULL, escalated INTEGER NOT NULL DEFAULT 0,
            closed_at TEXT NOT NULL DEFAULT '')""",
    )

    def apply(self, event, cursor) -> None:
        oid = str(event.originator_id)
        if isinstance(event, CaseRecord.Noted):
            self._fact(event, cursor)
        elif isinstance(event, Survey.Event):
            self._survey(event, oid, cursor)
        elif isinstance(event, CallBack.Opened):
            cursor.execute(
                "INSERT INTO ev_call_backs (call_back_id, survey_id, case_id, "
                "institution_id, staff_id, due_at, status) "
                "VALUES (%s, %s, %s, %s, %s, %s, 'open')",
                (
                    oid,
                    event.survey_id,
                    event.demand_id,
                    event.institution_id,
                    event.staff_id,
                    utc(event.due_at),
                ),
            )
        elif isinstance(event, CallBack.Done):
            cursor.execute(
                "UPDATE ev_call_backs SET status='done' WHERE call_back_id=%s", (oid,)
            )
        elif isinstance(event, ImprovementItem.Event):
            self._improvement(event, oid, cursor)

    # -- facts of other services ------------------------------------------

    def _case(self, cursor, case_id: str) -> None:
        cursor.execute(
            "INSERT INTO ev_cases (case_id) VALUES (%s) "
            "ON CONFLICT (case_id) DO NOTHING",
            (case_id,),
        )

    def _fact(self, event, cursor) -> None:
        case_id, data, kind = self._case_id(event), event.data, event.event_type
        fact_id = event.event_id
        self._case(cursor, case_id)
        if kind == "DemandRegistered":
            cursor.execute(
                "UPDATE ev_cases SET institution_id=COALESCE(NULLIF(%s, ''), "
                "institution_id), channel=%s, registered_at=%s WHERE case_id=%s",
                (
                    event.actor.get("institution", ""),
                    data.get("channel", ""),
                    utc(data.get("registered_at") or event.occurred_at),
                    case_id,
                ),
            )
        elif kind == "DemandTaken":
            at = utc(data.get("taken_at") or event.occurred_at)
            cursor.execute(
                "UPDATE ev_cases SET first_taker=%s, taken_at=%s "
                "WHERE case_id=%s AND first_taker=''",
                (data["staff_id"], at, case_id),
            )
            cursor.execute(
                "UPDATE ev_cases SET owner=%s WHERE case_id=%s",
                (data["staff_id"], case_id),
            )
            # filed online: the institution whose staff took it (as CaseRecord)
            cursor.execute(
                "UPDATE ev_cases SET institution_id=%s "
                "WHERE case_id=%s AND institution_id=''",
                (event.actor.get("institution", ""), case_id),
            )
        elif kind == "DemandHandedOver":
            cursor.execute(
                "UPDATE ev_cases SET owner=%s WHERE case_id=%s",
                (data["staff_id"], case_id),
            )
        elif kind in ("ContractReviewed", "NoticeViolation"):
            cursor.execute(
                "INSERT INTO ev_actions (fact_id, case_id, staff_id, kind, passed, at) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    fact_id,
                    case_id,
                    data["staff_id"],
                    "review" if kind == "ContractReviewed" else "violation",
                    int(bool(data.get("passed", False))),
                    utc(event.occurred_at),
                ),
            )
        elif kind == "DemandResolved":
            cursor.execute(
                "UPDATE ev_cases SET outcome=%s, resolved_at=%s, resolved_by=%s "
                "WHERE case_id=%s",
                (
                    data.get("outcome", ""),
                    utc(data.get("resolved_at") or event.occurred_at),
                    data.get("resolved_by", ""),
                    case_id,
                ),
            )
        elif kind == "ReferralCompleted":
            cursor.execute(
                "INSERT INTO ev_referrals (referral_id, case_id, institution_id, "
                "completed_at, on_time) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (referral_id) DO NOTHING",
                (
                    data["referral_id"],
                    case_id,
                    data.get("institution_id", ""),
                    utc(data.get("completed_at") or event.occurred_at),
                    int(bool(data.get("on_time"))),
                ),
            )
        elif kind in ("ComplaintReceived", "CorrectiveActionAgreed"):
            self._complaint(event, case_id, cursor)

    @staticmethod
    def _case_id(event) -> str:
        return event.data.get("demand_id") or event.data.get("complaint_id") or ""

    def _complaint(self, event, case_id: str, cursor) -> None:
        data = event.data
        cursor.execute(
            "INSERT INTO ev_complaints (complaint_id, case_id) VALUES (%s, %s) "
            "ON CONFLICT (complaint_id) DO NOTHING",
            (data["complaint_id"], case_id),
        )
        if event.event_type == "ComplaintReceived":
            cursor.execute(
                "UPDATE ev_complaints SET institution_id=%s, staff_id=%s, "
                "received_at=%s WHERE complaint_id=%s",
                (
                    data.get("institution_id", ""),
                    data.get("staff_id", ""),
                    utc(data.get("received_at") or event.occurred_at),
                    data["complaint_id"],
                ),
            )
        else:
            cursor.execute(
                "UPDATE ev_complaints SET outcome=%s WHERE complaint_id=%s",
                (data.get("outcome", ""), data["complaint_id"]),
            )
            if data.get("institution_id"):
                cursor.execute(
                    "UPDATE ev_complaints SET institution_id=%s "
                    "WHERE complaint_id=%s AND institution_id=''",
                    (data["institution_id"], data["complaint_id"]),
                )

    # -- evaluation's own aggregates -----------------------------------------

    def _survey(self, event, oid: str, cursor) -> None:
        if isinstance(event, Survey.Issued):
            cursor.execute(
                "INSERT INTO ev_surveys (survey_id, source, case_id, institution_id, "
                "staff_id, ended_at, due_at, status) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, 'issued')",
                (
                    oid,
                    event.source,
                    event.demand_id,
                    event.institution_id,
                    event.staff_id,
                    utc(event.ended_at),
                    utc(event.due_at),
                ),
            )
        elif isinstance(event, Survey.Rated):
            cursor.execute(
                "UPDATE ev_surveys SET status='rated', overall=%s, dimensions=%s, "
                "comments=%s, rated_at=%s WHERE survey_id=%s",
                (
                    event.overall,
                    json.dumps(dict(event.dimensions), ensure_ascii=False),
                    event.comments,
                    utc(event.rated_at),
                    oid,
                ),
            )
        elif isinstance(event, Survey.Expired):
            cursor.execute(
                "UPDATE ev_surveys SET status='expired' WHERE survey_id=%s", (oid,)
            )

    def _improvement(self, event, oid: str, cursor) -> None:
        if isinstance(event, ImprovementItem.Opened):
            cursor.execute(
                "INSERT INTO ev_improvements (item_id, source, ref, institution_id, "
                "staff_id, demand_id, finding, owner, actions, deadline, opened_at, "
                "status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'open')",
                (
                    oid,
                    event.source,
                    event.ref,
                    event.institution_id,
                    event.staff_id,
                    event.demand_id,
                    event.finding,
                    event.owner,
                    json.dumps(list(event.actions), ensure_ascii=False),
                    utc(event.deadline),
                    utc(event.opened_at),
                ),
            )
        elif isinstance(event, ImprovementItem.Planned):
            cursor.execute(
                "UPDATE ev_improvements SET owner=%s, actions=%s, deadline=%s "
                "WHERE item_id=%s",
                (
                    event.owner,
                    json.dumps(list(event.actions), ensure_ascii=False),
                    utc(event.deadline),
                    oid,
                ),
            )
        elif isinstance(event, ImprovementItem.Escalated):
            cursor.execute(
                "UPDATE ev_improvements SET escalated=1 WHERE item_id=%s", (oid,)
            )
        elif isinstance(event, ImprovementItem.Closed):
            cursor.execute(
                "UPDATE ev_improvements SET status='closed', closed_at=%s "
                "WHERE item_id=%s",
                (utc(event.timestamp), oid),
            )

"""Evaluation's read model, fed by its own stored events: the facts of each
case, surveys, call-backs and improvement items, in tables the figures are
counted from (9.1.2, 9.2.2, 9.1.3). Rebuildable at any time; the tables are
declared in ``tables.py``.

Every moment is stored as UTC ISO text, so text order is time order.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.evaluation.domain import CallBack, ImprovementItem, Survey
from services.evaluation.records import (
    CaseRecord,
    EfficiencyAssessment,
    HalfYearSummary,
)
from services.evaluation.tables import (
    TABLES,
    actions,
    call_backs,
    cases,
    complaints,
    improvements,
    referrals,
    reviews,
    surveys,
)
from shared.projection import Projection, Writes

CASE = cases.c
COMPLAINT = complaints.c


def utc(moment) -> str:
    """UTC ISO text of an aware datetime or ISO text ("" stays "")."""
    if not moment:
        return ""
    if not isinstance(moment, datetime):
        moment = datetime.fromisoformat(str(moment))
    return moment.astimezone(UTC).isoformat()


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


class EvaluationView(Projection):
    name = "evaluation_view"
    version = 3  # v2: ev_complaints.verified, ev_reviews; v3: indexes
    tables = TABLES

    def apply(self, event, writes: Writes) -> None:
        oid = str(event.originator_id)
        if isinstance(event, CaseRecord.Noted):
            self._fact(event, writes)
        elif isinstance(
            event,
            EfficiencyAssessment.Assessed
            | HalfYearSummary.Drafted
            | HalfYearSummary.SignedOff,
        ):
            self._review(event, oid, writes)
        elif isinstance(event, Survey.Event):
            self._survey(event, oid, writes)
        elif isinstance(event, CallBack.Opened):
            writes.insert(
                call_backs,
                {
                    "call_back_id": oid,
                    "survey_id": event.survey_id,
                    "case_id": event.demand_id,
                    "institution_id": event.institution_id,
                    "staff_id": event.staff_id,
                    "due_at": utc(event.due_at),
                    "status": "open",
                },
            )
        elif isinstance(event, CallBack.Done):
            writes.update(call_backs, {"call_back_id": oid}, {"status": "done"})
        elif isinstance(event, ImprovementItem.Event):
            self._improvement(event, oid, writes)

    def preload(self, events, writes: Writes) -> None:
        """The cases and complaints a batch's facts are about: whether each
        is there, and what it says already, are then known without a read."""
        noted = [event for event in events if isinstance(event, CaseRecord.Noted)]
        writes.load(cases, "case_id", {self._case_id(event) for event in noted})
        writes.load(
            complaints,
            "complaint_id",
            {
                event.data["complaint_id"]
                for event in noted
                if event.event_type in ("ComplaintReceived", "CorrectiveActionAgreed")
            },
        )

    # -- facts of other services ------------------------------------------

    def _fact(self, event, writes: Writes) -> None:
        case_id, data, kind = self._case_id(event), event.data, event.event_type
        writes.insert_new(cases, {"case_id": case_id})
        case = {"case_id": case_id}
        if kind == "DemandRegistered":
            institution = event.actor.get("institution", "")
            writes.update(
                cases,
                case,
                {
                    "channel": data.get("channel", ""),
                    "registered_at": utc(
                        data.get("registered_at") or event.occurred_at
                    ),
                    # filed online, it names no institution: keep what is known
                    **({"institution_id": institution} if institution else {}),
                },
            )
        elif kind == "DemandTaken":
            at = utc(data.get("taken_at") or event.occurred_at)
            writes.update(
                cases,
                case,
                {"first_taker": data["staff_id"], "taken_at": at},
                when={"first_taker": ""},
            )
            writes.update(cases, case, {"owner": data["staff_id"]})
            # filed online: the institution whose staff took it (as CaseRecord)
            writes.update(
                cases,
                case,
                {"institution_id": event.actor.get("institution", "")},
                when={"institution_id": ""},
            )
        elif kind == "DemandHandedOver":
            writes.update(cases, case, {"owner": data["staff_id"]})
        elif kind in ("ContractReviewed", "NoticeViolation"):
            writes.insert(
                actions,
                {
                    "fact_id": event.event_id,
                    "case_id": case_id,
                    "staff_id": data["staff_id"],
                    "kind": "review" if kind == "ContractReviewed" else "violation",
                    "passed": int(bool(data.get("passed", False))),
                    "at": utc(event.occurred_at),
                },
            )
        elif kind == "DemandResolved":
            writes.update(
                cases,
                case,
                {
                    "outcome": data.get("outcome", ""),
                    "resolved_at": utc(data.get("resolved_at") or event.occurred_at),
                    "resolved_by": data.get("resolved_by", ""),
                },
            )
        elif kind == "ReferralCompleted":
            writes.insert_new(
                referrals,
                {
                    "referral_id": data["referral_id"],
                    "case_id": case_id,
                    "institution_id": data.get("institution_id", ""),
                    "completed_at": utc(data.get("completed_at") or event.occurred_at),
                    "on_time": int(bool(data.get("on_time"))),
                },
            )
        elif kind in ("ComplaintReceived", "CorrectiveActionAgreed"):
            self._complaint(event, case_id, writes)

    @staticmethod
    def _case_id(event) -> str:
        return event.data.get("demand_id") or event.data.get("complaint_id") or ""

    def _complaint(self, event, case_id: str, writes: Writes) -> None:
        data = event.data
        writes.insert_new(
            complaints, {"complaint_id": data["complaint_id"], "case_id": case_id}
        )
        complaint = {"complaint_id": data["complaint_id"]}
        if event.event_type == "ComplaintReceived":
            writes.update(
                complaints,
                complaint,
                {
                    "institution_id": data.get("institution_id", ""),
                    "staff_id": data.get("staff_id", ""),
                    "verified": int(bool(data.get("verified"))),
                    "received_at": utc(data.get("received_at") or event.occurred_at),
                },
            )
        else:
            writes.update(complaints, complaint, {"outcome": data.get("outcome", "")})
            if data.get("institution_id"):
                writes.update(
                    complaints,
                    complaint,
                    {"institution_id": data["institution_id"]},
                    when={"institution_id": ""},
                )

    # -- evaluation's own aggregates -----------------------------------------

    @staticmethod
    def _review(event, oid: str, writes: Writes) -> None:
        """A periodic review done, for the institution of the manager who did
        it (an assessment) or whose summary it is (a sign-off)."""
        if isinstance(event, HalfYearSummary.Drafted):
            writes.insert_new(
                reviews,
                {
                    "review_id": oid,
                    "kind": "half_year",
                    "institution_id": event.institution_id,
                    "period": f"{event.year}-H{event.half}",
                    "done_at": "",
                },
            )
            return
        if isinstance(event, HalfYearSummary.SignedOff):
            writes.update(
                reviews, {"review_id": oid}, {"done_at": utc(event.timestamp)}
            )
            return
        actor = (getattr(event, "audit", None) or {}).get("actor") or {}
        writes.insert_new(
            reviews,
            {
                "review_id": oid,
                "kind": "efficiency",
                "institution_id": str(actor.get("institution", "")),
                "period": "",
                "done_at": utc(event.timestamp),
            },
        )

    def _survey(self, event, oid: str, writes: Writes) -> None:
        survey = {"survey_id": oid}
        if isinstance(event, Survey.Issued):
            writes.insert(
                surveys,
                {
                    "survey_id": oid,
                    "source": event.source,
                    "case_id": event.demand_id,
                    "institution_id": event.institution_id,
                    "staff_id": event.staff_id,
                    "ended_at": utc(event.ended_at),
                    "due_at": utc(event.due_at),
                    "status": "issued",
                },
            )
        elif isinstance(event, Survey.Rated):
            writes.update(
                surveys,
                survey,
                {
                    "status": "rated",
                    "overall": event.overall,
                    "dimensions": _json(dict(event.dimensions)),
                    "comments": event.comments,
                    "rated_at": utc(event.rated_at),
                },
            )
        elif isinstance(event, Survey.Expired):
            writes.update(surveys, survey, {"status": "expired"})
        elif isinstance(event, Survey.InvitationDelivered):
            writes.update(surveys, survey, {"due_at": utc(event.due_at)})

    def _improvement(self, event, oid: str, writes: Writes) -> None:
        item = {"item_id": oid}
        if isinstance(event, ImprovementItem.Opened):
            writes.insert(
                improvements,
                {
                    "item_id": oid,
                    "source": event.source,
                    "ref": event.ref,
                    "institution_id": event.institution_id,
                    "staff_id": event.staff_id,
                    "demand_id": event.demand_id,
                    "finding": event.finding,
                    "owner": event.owner,
                    "actions": _json(list(event.actions)),
                    "deadline": utc(event.deadline),
                    "opened_at": utc(event.opened_at),
                    "status": "open",
                },
            )
        elif isinstance(event, ImprovementItem.Planned):
            writes.update(
                improvements,
                item,
                {
                    "owner": event.owner,
                    "actions": _json(list(event.actions)),
                    "deadline": utc(event.deadline),
                },
            )
        elif isinstance(event, ImprovementItem.Escalated):
            writes.update(improvements, item, {"escalated": 1})
        elif isinstance(event, ImprovementItem.Closed):
            writes.update(
                improvements,
                item,
                {"status": "closed", "closed_at": utc(event.timestamp)},
            )
